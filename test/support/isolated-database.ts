import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDatabase, dropDatabase } from './test-env.js';

const here = dirname(fileURLToPath(import.meta.url));

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
  await promisify(execFile)(process.execPath, [join(here, 'migrate-database.js'), url]);
  return { name, url, drop: () => dropDatabase(name) };
}
