import { Redis } from 'ioredis';
import { dropDatabase } from './test-env.js';

/** Removes this run's database and every Redis key under its prefixes. */
export default async function globalTeardown(): Promise<void> {
  const database = process.env.GATEHOUSE_TEST_DATABASE;
  const runId = process.env.GATEHOUSE_TEST_RUN;
  if (database !== undefined) await dropDatabase(database);
  if (runId === undefined || process.env.KEEP_TEST_STATE === '1') return;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    for (const pattern of [`gh-test-${runId}:*`, `gh-test-${runId}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
