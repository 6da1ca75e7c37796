import { DataSource } from 'typeorm';
import { validateEnvOrExit } from '../config/env.js';
import { migrationsDataSourceOptions } from './data-source.js';

/** The data source the TypeORM CLI loads (`npm run migration:*`), configured from DATABASE_URL. */
export default new DataSource(
  migrationsDataSourceOptions(validateEnvOrExit('migrate').DATABASE_URL),
);
