import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { migrationsDataSourceOptions } from '../../src/database/data-source.js';

/**
 * `node migrate-database.js <url>`: applies every migration to that database. A process of
 * its own because TypeORM imports its migration and entity globs dynamically, which Jest's
 * module environment does not survive when suites run side by side.
 */
const url = process.argv[2];
if (url === undefined) throw new Error('usage: migrate-database.js <database url>');
const dataSource = new DataSource(migrationsDataSourceOptions(url));
await dataSource.initialize();
await dataSource.runMigrations();
await dataSource.destroy();
