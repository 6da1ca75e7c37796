import pg from 'pg';

/**
 * Where the tests' Postgres and Redis are. Each run gets its own database (created in global
 * setup, dropped in teardown) and its own Redis key and queue prefixes, so runs never collide.
 */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** This run's compiled OpenAPI document (test/support/openapi-contract.ts), from global setup. */
export const RESPONSE_CONTRACT_ENV = 'GATEHOUSE_TEST_RESPONSE_CONTRACT';

export function databaseUrl(database: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database and returns its URL (names are generated, never user input). */
export async function createDatabase(name: string): Promise<string> {
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  return databaseUrl(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
