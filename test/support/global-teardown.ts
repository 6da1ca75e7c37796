import { rmSync } from 'node:fs';
import { closeRedis } from '../../src/redis/redis-client.js';
import { RESPONSE_CONTRACT_ENV, dropDatabase } from './test-env.js';
import { scanKeys, testRedis } from './test-redis.js';

/** Removes this run's database, its compiled document and every Redis key under its prefixes. */
export default async function globalTeardown(): Promise<void> {
  const contract = process.env[RESPONSE_CONTRACT_ENV];
  if (contract !== undefined) rmSync(contract, { force: true });
  const database = process.env.GATEHOUSE_TEST_DATABASE;
  const runId = process.env.GATEHOUSE_TEST_RUN;
  if (database !== undefined) await dropDatabase(database);
  if (runId === undefined || process.env.KEEP_TEST_STATE === '1') return;
  const redis = testRedis(undefined);
  try {
    // REDIS_PREFIX (`gh-test-<run>:`) and BullMQ's hash-tagged QUEUE_PREFIX (`{gh-test-<run>}`).
    for (const pattern of [`gh-test-${runId}*`, `{gh-test-${runId}*`]) {
      const keys = await scanKeys(redis, pattern);
      // One UNLINK per key: on a cluster the keys live in many slots.
      await Promise.all(keys.map((key) => redis.unlink(key)));
    }
  } finally {
    await closeRedis(redis);
  }
}
