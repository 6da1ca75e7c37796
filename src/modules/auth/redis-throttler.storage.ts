import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisClient } from '../../redis/redis-client.js';

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * @nestjs/throttler's storage on the shared Redis, so login and register limits hold across
 * every api process. A fixed window per key: one MULTI increments the counter and starts its
 * expiry on the first hit; over the limit the key is blocked until the window ends.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: RedisClient) {}

  async increment(
    key: string,
    ttlMs: number,
    limit: number,
    _blockMs: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    const redisKey = `throttle:${name}:${key}`;
    const results = await this.redis
      .multi()
      .incr(redisKey)
      .pexpire(redisKey, ttlMs, 'NX')
      .pttl(redisKey)
      .exec();
    const hits = Number(results?.[0]?.[1] ?? 0);
    const remainingMs = Math.max(Number(results?.[2]?.[1] ?? ttlMs), 0);
    const seconds = Math.ceil(remainingMs / 1000);
    return {
      totalHits: hits,
      timeToExpire: seconds,
      isBlocked: hits > limit,
      timeToBlockExpire: seconds,
    };
  }
}
