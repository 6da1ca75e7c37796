import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { warnUnlessNoEviction } from './eviction-policy.js';

/**
 * The worker's start-up check of maxmemory-policy: read from the real Redis of the test run
 * (its configuration shared with other runs is not changed here), and from nodes that answer
 * another policy or refuse CONFIG.
 */
describe('warnUnlessNoEviction', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    await redis.quit();
  });

  function collect(): { warnings: unknown[]; logger: { warn(message: unknown): void } } {
    const warnings: unknown[] = [];
    return { warnings, logger: { warn: (message) => warnings.push(message) } };
  }

  function answering(config: () => Promise<unknown>): Redis {
    return { config } as unknown as Redis;
  }

  it('reads the real policy: silent exactly when it is noeviction', async () => {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const { warnings, logger } = collect();
    await warnUnlessNoEviction(redis, logger);
    expect(warnings).toHaveLength(policy === 'noeviction' ? 0 : 1);
  });

  it('warns once, naming the policy, under anything else (RESP2 and RESP3 replies)', async () => {
    for (const reply of [
      ['maxmemory-policy', 'allkeys-lru'],
      { 'maxmemory-policy': 'allkeys-lru' },
    ]) {
      const { warnings, logger } = collect();
      await warnUnlessNoEviction(
        answering(() => Promise.resolve(reply)),
        logger,
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ maxmemoryPolicy: ['allkeys-lru'] });
      expect(JSON.stringify(warnings[0])).toContain('not noeviction');
    }
  });

  it('is silent for noeviction', async () => {
    const { warnings, logger } = collect();
    await warnUnlessNoEviction(
      answering(() => Promise.resolve(['maxmemory-policy', 'noeviction'])),
      logger,
    );
    expect(warnings).toEqual([]);
  });

  it('warns that it could not check when CONFIG is refused, without failing', async () => {
    const { warnings, logger } = collect();
    await warnUnlessNoEviction(
      answering(() => Promise.reject(new Error("ERR unknown command 'CONFIG'"))),
      logger,
    );
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain('could not read Redis maxmemory-policy');
  });
});
