import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { createDatabase, dropDatabase } from './test-env.js';

export interface IsolatedDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A migrated database of a suite's own, for tests that must not touch the run's shared one
 * (making Postgres refuse connections, changing the global rate limits).
 */
export async function isolatedDatabase(purpose: string): Promise<IsolatedDatabase> {
  const name = `gatehouse_${purpose}_${process.env.GATEHOUSE_TEST_RUN ?? Date.now().toString(36)}`;
  const url = await createDatabase(name);
  const migrator = new DataSource(dataSourceOptions(url));
  await migrator.initialize();
  await migrator.runMigrations();
  await migrator.destroy();
  return { name, url, drop: () => dropDatabase(name) };
}
