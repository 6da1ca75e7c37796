import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { RedisConfig } from '../config/config.classes.js';
import { redactUrl } from '../config/redact.js';
import { RedisBus } from './redis-bus.js';

/** The limiter's own connection, for the one round trip of every limited request. */
export const LIMITER_REDIS = Symbol('LIMITER_REDIS');

/** A limiter call that has not answered by then counts as Redis being down (RATE_LIMIT_FAILURE_MODE). */
export const LIMITER_TIMEOUT_MS = 250;

/**
 * A Redis connection of this process (BullMQ opens its own). Every key it writes is prefixed
 * with REDIS_PREFIX, so several installations or test runs can share one Redis. Commands fail
 * fast instead of queueing forever while Redis is away: callers decide what a failure means
 * (the limiter's failure mode, a 503 from readiness).
 */
function createRedis(config: RedisConfig, name: string, options: RedisOptions = {}): Redis {
  const logger = new Logger(name);
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    lazyConnect: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...options,
  });
  let reported = false;
  redis.on('error', (error: Error) => {
    if (!reported)
      logger.warn(`Redis connection problem (${redactUrl(config.url)}): ${error.message}`);
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) logger.log('Redis connection restored');
    reported = false;
  });
  return redis;
}

/**
 * The limiter's connection: its own, so the hot path never queues behind other commands;
 * auto-pipelined, so the EVALSHAs of concurrent requests leave in one write instead of one
 * system call each; and a 250 ms command timeout instead of a timer of ours per request.
 */
function createLimiterRedis(config: RedisConfig): Redis {
  return createRedis(config, 'LimiterRedis', {
    commandTimeout: LIMITER_TIMEOUT_MS,
    enableAutoPipelining: true,
  });
}

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(Redis) private readonly redis: Redis,
    @Inject(LIMITER_REDIS) private readonly limiterRedis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.redis, this.limiterRedis].map(close));
  }
}

async function close(redis: Redis): Promise<void> {
  // QUIT would wait in the offline queue forever while Redis is unreachable.
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

@Global()
@Module({
  providers: [
    {
      provide: Redis,
      inject: [RedisConfig],
      useFactory: (c: RedisConfig) => createRedis(c, 'Redis'),
    },
    { provide: LIMITER_REDIS, inject: [RedisConfig], useFactory: createLimiterRedis },
    RedisShutdown,
    RedisBus,
  ],
  exports: [Redis, LIMITER_REDIS, RedisBus],
})
export class RedisModule {}
