import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { migrationsDataSourceOptions } from '../../src/database/data-source.js';
import { TEST_REDIS_URL, createDatabase } from './test-env.js';

/** One fresh, migrated database and one Redis prefix for this whole test run. */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `gatehouse_test_${runId}`;
  const url = await createDatabase(database);

  const dataSource = new DataSource(migrationsDataSourceOptions(url));
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();

  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    GATEHOUSE_TEST_RUN: runId,
    GATEHOUSE_TEST_DATABASE: database,
    DATABASE_URL: url,
    REDIS_URL: TEST_REDIS_URL,
    // The cluster run (see test/support/run-tests.ts): every Redis user talks to the cluster.
    REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES ?? '',
    REDIS_PREFIX: `gh-test-${runId}:`,
    QUEUE_PREFIX: `gh-test-${runId}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    // Every test logs in from 127.0.0.1; the throttling spec sets its own low limits.
    AUTH_THROTTLE_PER_IP: '1000000',
    AUTH_FAILURES_PER_IP: '1000000',
    // Specs of exact limits run beside many others on a busy machine: a limiter call that
    // waits longer than 250 ms there is load, not an outage (the outage specs stop Redis).
    RATE_LIMIT_TIMEOUT_MS: '2000',
  });
}
