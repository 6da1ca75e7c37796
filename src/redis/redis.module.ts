import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisConfig } from '../config/config.classes.js';
import { RedisBus } from './redis-bus.js';

/**
 * The one shared Redis connection of a process (BullMQ opens its own). Every key it writes is
 * prefixed with REDIS_PREFIX, so several installations or test runs can share one Redis.
 * Commands fail fast instead of queueing forever while Redis is away: callers decide what a
 * failure means (the limiter's failure mode, a 503 from readiness).
 */
function createRedis(config: RedisConfig): Redis {
  const logger = new Logger('Redis');
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    lazyConnect: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let reported = false;
  redis.on('error', (error: Error) => {
    if (!reported) logger.warn(`Redis connection problem: ${error.message}`);
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) logger.log('Redis connection restored');
    reported = false;
  });
  return redis;
}

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // QUIT would wait in the offline queue forever while Redis is unreachable.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}

@Global()
@Module({
  providers: [
    { provide: Redis, inject: [RedisConfig], useFactory: createRedis },
    RedisShutdown,
    RedisBus,
  ],
  exports: [Redis, RedisBus],
})
export class RedisModule {}
