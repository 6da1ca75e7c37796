import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  Limiter,
  type LimiterRequest,
  StaleLimits,
  type WindowPolicy,
  quotaCounterKey,
  revocationKey,
} from '../src/modules/rate-limit/limiter.js';
import type { RateLimitConfig } from '../src/config/config.classes.js';
import type { RedisClient } from '../src/redis/redis-client.js';
import { testRedis } from './support/test-redis.js';

/**
 * limiter.lua on the real Redis, through two separate connections standing in for two api
 * processes. Time is passed in (nowMs) where a test needs a clock it controls.
 */
describe('limiter script', () => {
  let redisA: RedisClient;
  let redisB: RedisClient;
  let a: Limiter;
  let b: Limiter;

  beforeAll(() => {
    redisA = testRedis();
    redisB = testRedis();
    // What the script decides, not how fast a loaded machine answers 300 calls at once.
    const patient = { timeoutMs: 5_000 } as RateLimitConfig;
    a = new Limiter(redisA, redisA, patient);
    b = new Limiter(redisB, redisB, patient);
  });

  afterAll(() => {
    redisA.disconnect();
    redisB.disconnect();
  });

  const sliding = (limit: number, windowMs = 60_000, name = `w${windowMs}`): WindowPolicy => ({
    name,
    algorithm: 'sliding_window',
    windowMs,
    limit,
  });

  it('admits exactly `limit` of 300 concurrent requests split across two processes, every time', async () => {
    for (let round = 0; round < 5; round += 1) {
      const subject = randomUUID();
      const request: LimiterRequest = { tag: subject, subject, windows: [sliding(100)], cost: 1 };
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? a : b).check(request)),
      );
      expect(results.filter((r) => r.outcome === 'admitted')).toHaveLength(100);
      expect(results.filter((r) => r.outcome === 'rate_limited')).toHaveLength(200);
    }
  });

  it('a rejected request consumes nothing in any window', async () => {
    const subject = randomUUID();
    const windows = [sliding(10, 1_000, 'second'), sliding(15, 60_000, 'minute')];
    const now = 1_000_000;
    for (let i = 0; i < 10; i += 1) {
      expect((await a.check({ tag: subject, subject, windows, cost: 1, nowMs: now })).outcome).toBe(
        'admitted',
      );
    }
    const rejected = await a.check({ tag: subject, subject, windows, cost: 1, nowMs: now + 10 });
    expect(rejected.outcome).toBe('rate_limited');
    expect(rejected.deciding).toBe(0);
    expect(rejected.windows[1]?.remaining).toBe(5); // the minute window was not charged
    // A second later the second-window frees up; the minute window has exactly 5 left.
    const later = await a.check({ tag: subject, subject, windows, cost: 1, nowMs: now + 1_001 });
    expect(later.outcome).toBe('admitted');
    expect(later.windows[1]?.remaining).toBe(4);
  });

  it('reports remaining and when the oldest admission leaves the window', async () => {
    const subject = randomUUID();
    const now = 5_000_000;
    const first = await a.check({
      tag: subject,
      subject,
      windows: [sliding(3, 10_000)],
      cost: 1,
      nowMs: now,
    });
    expect(first.windows[0]).toEqual({ remaining: 2, resetMs: now + 10_000 });
    const second = await a.check({
      tag: subject,
      subject,
      windows: [sliding(3, 10_000)],
      cost: 2,
      nowMs: now + 500,
    });
    expect(second.windows[0]).toEqual({ remaining: 0, resetMs: now + 10_000 });
    expect(
      (
        await a.check({
          tag: subject,
          subject,
          windows: [sliding(3, 10_000)],
          cost: 1,
          nowMs: now + 9_999,
        })
      ).outcome,
    ).toBe('rate_limited');
    expect(
      (
        await a.check({
          tag: subject,
          subject,
          windows: [sliding(3, 10_000)],
          cost: 1,
          nowMs: now + 10_000,
        })
      ).outcome,
    ).toBe('admitted');
  });

  it('token bucket: a burst of `limit`, then refill at limit per window', async () => {
    const subject = randomUUID();
    const bucket: WindowPolicy = {
      name: 'tb',
      algorithm: 'token_bucket',
      windowMs: 1_000,
      limit: 5,
    };
    const now = 2_000_000;
    const burst = [];
    for (let i = 0; i < 6; i += 1)
      burst.push(
        (await a.check({ tag: subject, subject, windows: [bucket], cost: 1, nowMs: now })).outcome,
      );
    expect(burst).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'admitted',
      'admitted',
      'rate_limited',
    ]);
    expect(
      (await a.check({ tag: subject, subject, windows: [bucket], cost: 1, nowMs: now + 100 }))
        .outcome,
    ).toBe('rate_limited');
    expect(
      (await a.check({ tag: subject, subject, windows: [bucket], cost: 1, nowMs: now + 200 }))
        .outcome,
    ).toBe('admitted');
    const empty = await a.check({
      tag: subject,
      subject,
      windows: [bucket],
      cost: 1,
      nowMs: now + 200,
    });
    expect(empty.outcome).toBe('rate_limited');
    // Reset is when the next token is there (1/5 of the window), not when the bucket is full.
    expect((empty.windows[0]?.resetMs ?? 0) - (now + 200)).toBe(200);
    const full = await a.check({
      tag: subject,
      subject,
      windows: [bucket],
      cost: 5,
      nowMs: now + 1_200,
    });
    expect(full.outcome).toBe('admitted');
  });

  it('above 10,000 per window it counts in 1/60-window buckets and never passes the limit', async () => {
    const subject = randomUUID();
    const window = sliding(12_000, 60_000);
    const now = 60_000 * 1_000;
    for (let i = 0; i < 12; i += 1) {
      expect(
        (await a.check({ tag: subject, subject, windows: [window], cost: 1_000, nowMs: now + i }))
          .outcome,
      ).toBe('admitted');
    }
    expect(
      (await a.check({ tag: subject, subject, windows: [window], cost: 1, nowMs: now + 59_999 }))
        .outcome,
    ).toBe('rate_limited');
    expect(
      (
        await a.check({
          tag: subject,
          subject,
          windows: [window],
          cost: 1_000,
          nowMs: now + 60_000,
        })
      ).outcome,
    ).toBe('admitted');
    expect(await redisA.hlen(`rl:{${subject}}:${subject}:${window.name}`)).toBeLessThanOrEqual(62); // 60 buckets, total, first
  });

  it('a bucketed window whose length is not a multiple of 60 ms (a second) counts and expires', async () => {
    // 1,000 ms / 60 buckets: fractional bucket lengths, and a key TTL Redis takes only whole.
    const subject = randomUUID();
    const window = sliding(20_000, 1_000);
    const now = 1_000 * 1_000;
    const check = (cost: number, at: number) =>
      a.check({ tag: subject, subject, windows: [window], cost, nowMs: now + at });
    expect((await check(15_000, 0)).outcome).toBe('admitted');
    expect((await check(5_000, 500)).outcome).toBe('admitted');
    const full = await check(1, 900);
    expect(full.outcome).toBe('rate_limited');
    expect(full.windows[0]?.remaining).toBe(0);
    expect((await check(15_000, 1_000)).outcome).toBe('admitted');
    const ttl = await redisA.pttl(`rl:{${subject}}:${subject}:${window.name}`);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(1_017);
  });

  it('a bucketed window sets its key to expire when a bucket is first written, not on every call', async () => {
    const subject = randomUUID();
    const window = sliding(100_000, 60_000); // 1,000 ms buckets
    const key = `rl:{${subject}}:${subject}:${window.name}`;
    const now = 1_000 * 60_000;
    const check = (at: number) =>
      a.check({ tag: subject, subject, windows: [window], cost: 1, nowMs: now + at });
    expect((await check(0)).outcome).toBe('admitted');
    // window + one bucket: past the end of the last bucket written plus a window, nothing counts.
    expect(await redisA.pttl(key)).toBeGreaterThan(60_000);
    expect(await redisA.pttl(key)).toBeLessThanOrEqual(61_000);
    // A marker expiry: a call in the same bucket leaves it as it is...
    await redisA.pexpire(key, 5_000);
    expect((await check(400)).outcome).toBe('admitted');
    expect(await redisA.pttl(key)).toBeLessThanOrEqual(5_000);
    // ...and the next bucket's first call moves it on.
    expect((await check(1_000)).outcome).toBe('admitted');
    expect(await redisA.pttl(key)).toBeGreaterThan(60_000);
    expect((await check(1_500)).windows[0]?.remaining).toBe(100_000 - 4);
  });

  it('quotas: counted with the windows, refused when full without charging the windows, warned once at 80 %', async () => {
    const tag = randomUUID();
    const now = Date.now();
    const periodEndMs = now + 3_600_000;
    const quotas = [
      { id: 'key-quota', max: 5, periodStartMs: now - 1_000, periodEndMs },
      { id: 'org-quota', max: 100, periodStartMs: now - 1_000, periodEndMs },
    ];
    const windows = [sliding(100)];
    const results = [];
    for (let i = 0; i < 7; i += 1)
      results.push(await a.check({ tag, subject: 'key:1', windows, cost: 1, quotas }));
    expect(results.map((r) => r.outcome)).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'admitted',
      'admitted',
      'over_quota',
      'over_quota',
    ]);
    // 80 % of 5 is 4: exactly the fourth request crossed it; the first refusal is flagged once.
    expect(results.map((r) => r.quotas[0]?.crossedWarning)).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
    ]);
    expect(results.map((r) => r.quotas[0]?.firstRefusal)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(results[5]?.decidingQuota).toBe(0);
    expect(results[5]?.quotas[0]).toMatchObject({ used: 5, remaining: 0 });
    expect(results[5]?.windows[0]?.remaining).toBe(95);
    // Another key of the same organization shares the organization's quota, not the key's.
    const other = await a.check({
      tag,
      subject: 'key:2',
      windows,
      cost: 1,
      quotas: quotas.slice(1),
    });
    expect(other.quotas[0]?.used).toBe(6);
    const ttl = await redisA.pttl(quotaCounterKey(tag, 'key-quota', now - 1_000));
    expect(ttl).toBeGreaterThan(3_500_000);
  });

  it('quota events: exceeded only once the quota is exhausted (a cost that does not fit is not), each once per period whatever max becomes', async () => {
    const tag = randomUUID();
    const quota = { id: 'q', max: 10, periodStartMs: 0, periodEndMs: Date.now() + 60_000 };
    const call = async (cost: number, max = quota.max) => {
      const result = await a.check({
        tag,
        subject: 'key:1',
        windows: [sliding(1_000)],
        cost,
        quotas: [{ ...quota, max }],
      });
      const state = result.quotas[0];
      return [result.outcome, state?.used, state?.crossedWarning, state?.firstRefusal];
    };
    expect(await call(7)).toEqual(['admitted', 7, false, false]);
    expect(await call(5)).toEqual(['over_quota', 7, false, false]);
    expect(await call(1)).toEqual(['admitted', 8, true, false]);
    expect(await call(2)).toEqual(['admitted', 10, false, false]);
    expect(await call(1)).toEqual(['over_quota', 10, false, true]);
    expect(await call(1)).toEqual(['over_quota', 10, false, false]);
    // A raised max admits again, without a second warning or exhaustion event this period.
    expect(await call(1, 20)).toEqual(['admitted', 11, false, false]);
    expect(await call(10, 20)).toEqual(['over_quota', 11, false, false]);
    expect(await call(9, 20)).toEqual(['admitted', 20, false, false]);
    expect(await call(1, 20)).toEqual(['over_quota', 20, false, false]);
  });

  it('peek reads every counter and the next decision, writing nothing', async () => {
    const tag = randomUUID();
    const quotas = [{ id: 'q', max: 2, periodStartMs: 0, periodEndMs: Date.now() + 60_000 }];
    const request = { tag, subject: 'key:1', windows: [sliding(3)], cost: 1, quotas };
    await a.check(request);
    await a.check(request);
    const peeked = await a.check({ ...request, peek: true });
    expect(peeked.outcome).toBe('over_quota');
    expect(peeked.quotas[0]).toMatchObject({ used: 2, remaining: 0, firstRefusal: false });
    expect(peeked.windows[0]?.remaining).toBe(1);
    expect(await redisA.hget(`${quotaCounterKey(tag, 'q', 0)}:events`, 'exceeded')).toBeNull();
    expect((await a.check({ ...request, peek: true })).windows[0]?.remaining).toBe(1);
  });

  it('a revocation marker refuses the key in the same round trip', async () => {
    const subject = randomUUID();
    expect((await a.check({ tag: subject, subject, windows: [sliding(5)], cost: 1 })).outcome).toBe(
      'admitted',
    );
    await redisB.set(revocationKey({ tag: subject, subject }), '1');
    expect((await a.check({ tag: subject, subject, windows: [sliding(5)], cost: 1 })).outcome).toBe(
      'revoked',
    );
  });

  it('a call whose limits predate the last change counts nothing and names the generation', async () => {
    const tag = randomUUID();
    const quotas = [{ id: 'q', max: 5, periodStartMs: 0, periodEndMs: Date.now() + 60_000 }];
    const request = { tag, subject: 'key:1', windows: [sliding(5)], cost: 1, quotas };
    // Nothing changed yet: generation 0 is current.
    expect((await a.check({ ...request, generation: 0 })).outcome).toBe('admitted');
    await b.limitsChanged(tag);
    await b.limitsChanged(tag);
    await expect(a.check({ ...request, generation: 0 })).rejects.toEqual(new StaleLimits(2));
    await expect(a.check({ ...request, generation: -1 })).rejects.toBeInstanceOf(StaleLimits);
    const current = await a.check({ ...request, generation: 2 });
    // The refused stale calls counted nothing, in the windows or the quota.
    expect(current.windows[0]?.remaining).toBe(3);
    expect(current.quotas[0]?.used).toBe(2);
    // Without a generation (a user's call) nothing is checked.
    expect((await a.check(request)).outcome).toBe('admitted');
  });

  it('survives SCRIPT FLUSH (NOSCRIPT) as after a Redis restart', async () => {
    const subject = randomUUID();
    await redisA.script('FLUSH');
    expect((await a.check({ tag: subject, subject, windows: [sliding(5)], cost: 1 })).outcome).toBe(
      'admitted',
    );
    expect(
      (await b.check({ tag: subject, subject, windows: [sliding(5)], cost: 1 })).windows[0]
        ?.remaining,
    ).toBe(3);
  });

  it('matches a reference model of the exact sliding window and the token bucket', async () => {
    const step = fc.record({
      dt: fc.integer({ min: 0, max: 700 }),
      cost: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1_000, 2_500),
        async (steps, limit, windowMs) => {
          const subject = randomUUID();
          const windows: WindowPolicy[] = [
            { name: 'log', algorithm: 'sliding_window', windowMs, limit },
            { name: 'tb', algorithm: 'token_bucket', windowMs, limit },
          ];
          let now = 10_000_000;
          const log: number[] = [];
          let tokens = limit;
          let last = now;
          for (const { dt, cost } of steps) {
            now += dt;
            // Reference model: both windows must admit; nothing is consumed otherwise.
            while (log.length > 0 && (log[0] ?? 0) <= now - windowMs) log.shift();
            const refilled = Math.min(limit, tokens + ((now - last) * limit) / windowMs);
            const admits = log.length + cost <= limit && refilled >= cost;
            const result = await a.check({ tag: subject, subject, windows, cost, nowMs: now });
            expect(result.outcome).toBe(admits ? 'admitted' : 'rate_limited');
            if (admits) {
              for (let c = 0; c < cost; c += 1) log.push(now);
              tokens = refilled - cost;
              last = now;
            }
            // The script only writes the bucket's clock when it consumes; mirror that.
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bucketed windows (limits above 10,000) match a reference model, including long idle gaps', async () => {
    const step = fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 50_000, max: 200_000 })),
      cost: fc.integer({ min: 100, max: 4_000 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 10_001, max: 12_000 }),
        async (steps, limit) => {
          const subject = randomUUID();
          const windows: WindowPolicy[] = [
            { name: 'bucketed', algorithm: 'sliding_window', windowMs: 60_000, limit },
          ];
          const bucketMs = 1_000;
          const buckets = new Map<number, number>();
          let now = 60_000 * 500;
          for (const { dt, cost } of steps) {
            now += dt;
            const current = Math.floor(now / bucketMs);
            let used = 0;
            for (const [index, count] of buckets) if (index > current - 60) used += count;
            const admits = used + cost <= limit;
            const result = await a.check({ tag: subject, subject, windows, cost, nowMs: now });
            expect(result.outcome).toBe(admits ? 'admitted' : 'rate_limited');
            if (admits) buckets.set(current, (buckets.get(current) ?? 0) + cost);
            expect(result.windows[0]?.remaining).toBe(
              Math.max(limit - used - (admits ? cost : 0), 0),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
