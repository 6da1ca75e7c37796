import { describe, expect, it } from '@jest/globals';
import type { Command } from 'ioredis';
import {
  Limiter,
  type LimiterRequest,
  type LimiterSubject,
  keySubject,
} from '../src/modules/rate-limit/limiter.js';
import type { RedisClient } from '../src/redis/redis-client.js';
import { keySlot } from './support/key-slot.js';

/**
 * Every Redis call that names several keys must name keys of one hash slot, or a Redis
 * Cluster refuses it (CROSSSLOT). The limiter's script is the one such call on the hot path:
 * its keys are captured here, on no Redis at all, for every shape of request.
 */
describe('Redis Cluster hash slots', () => {
  it('computes slots as Redis does', () => {
    // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}')); // empty tag: the whole key
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
  });

  function keysOf(request: LimiterRequest): string[] {
    let captured: string[] = [];
    const fake = {
      status: 'ready',
      options: { keyPrefix: 'gh:' },
      // EVALSHA's arguments: the script's SHA, the number of keys, the keys, then the rest.
      sendCommand: (command: Command) => {
        const args = command.args.map(String);
        captured = args.slice(2, 2 + Number(args[1]));
        command.resolve([0, 1, 0]);
      },
    } as unknown as RedisClient;
    void new Limiter(fake).check(request);
    return captured;
  }

  const subjects: [string, LimiterSubject][] = [
    ['an API key', keySubject('5b0c7d1e-3f9a-4c55-9d3e-2a8f4b6c1d7e', '42')],
    ['a user', { tag: 'user:9f1c2b3a-1111-4e2d-8c3b-5a6d7e8f9a0b', subject: 'user' }],
  ];

  it.each(subjects)(
    "keeps every key of %s's limiter call in one slot, windows and quotas alike",
    (_, subject) => {
      const keys = keysOf({
        ...subject,
        cost: 1,
        windows: [1_000, 60_000, 3_600_000, 86_400_000].map((windowMs, i) => ({
          name: `w${i}:${windowMs}`,
          algorithm: i % 2 === 0 ? 'sliding_window' : 'token_bucket',
          windowMs,
          limit: 100 * (i + 1),
        })),
        quotas: ['q-key', 'q-project', 'q-organization'].map((id) => ({
          id,
          max: 1_000,
          periodStartMs: 0,
          periodEndMs: 2_592_000_000,
        })),
      });
      // The revocation marker, four windows, two keys per quota, the limits' generation.
      expect(keys).toHaveLength(1 + 4 + 3 * 2 + 1);
      // The connection's REDIS_PREFIX comes before the tag and does not move the slot.
      expect(keys.every((key) => key.startsWith('gh:'))).toBe(true);
      const slots = new Set(keys.map((key) => keySlot(key)));
      expect(slots.size).toBe(1);
    },
  );

  it('spreads different organizations over the cluster', () => {
    const slots = new Set(
      Array.from({ length: 200 }, (_, i) =>
        keySlot(keysOf({ ...keySubject(`org-${i}`, 'k'), cost: 1, windows: [] })[0] ?? ''),
      ),
    );
    expect(slots.size).toBeGreaterThan(150);
  });
});
