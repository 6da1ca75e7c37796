import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { RedisConfig } from '../config/config.classes.js';
import { RedisBus } from './redis-bus.js';
import { Cluster } from 'ioredis';
import {
  LIMITER_REDIS,
  QUEUE_CONNECTION,
  type QueueConnection,
  REDIS,
  closeRedis,
  connectCluster,
  connectRedis,
  type RedisClient,
} from './redis-client.js';

/**
 * The limiter's connection: its own, so the hot path never queues behind other commands;
 * tried once even on a cluster that is failing over; and connected by the Limiter, so only
 * where limits are checked. Not auto-pipelined: the Limiter sends bare commands and holds
 * the socket's writes for the rest of the event loop's turn itself (limiter-command.ts), the
 * same one write for concurrent requests without the auto-pipeline's cost per call.
 * Its 250 ms budget is the Limiter's (Deadlines), which does not count this process's own
 * delays against Redis; the command timeout here is only a backstop.
 */
function connectLimiterRedis(config: RedisConfig): RedisClient {
  return connectRedis(config, {
    name: 'LimiterRedis',
    keyPrefix: config.keyPrefix,
    failFast: true,
    lazyConnect: true,
  });
}

function queueConnection(config: RedisConfig): QueueConnection {
  if (config.clusterNodes.length === 0) return { url: config.url, maxRetriesPerRequest: null };
  return connectCluster(config, {
    name: 'QueueRedis',
    commandTimeout: null,
    maxRetriesPerRequest: null,
  });
}

/**
 * Closes this process's connections. This module is global, so Nest shuts it down after the
 * feature modules, and it is imported before QueuesModule, so after BullMQ's (global)
 * explorer has closed the workers that share the queue connection.
 */
@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(LIMITER_REDIS) private readonly limiterRedis: RedisClient,
    @Inject(QUEUE_CONNECTION) private readonly queues: QueueConnection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const clients = [this.redis, this.limiterRedis];
    if (this.queues instanceof Cluster) clients.push(this.queues);
    await Promise.all(clients.map(closeRedis));
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [RedisConfig],
      useFactory: (c: RedisConfig) => connectRedis(c, { name: 'Redis', keyPrefix: c.keyPrefix }),
    },
    { provide: LIMITER_REDIS, inject: [RedisConfig], useFactory: connectLimiterRedis },
    { provide: QUEUE_CONNECTION, inject: [RedisConfig], useFactory: queueConnection },
    RedisShutdown,
    RedisBus,
  ],
  exports: [REDIS, LIMITER_REDIS, QUEUE_CONNECTION, RedisBus],
})
export class RedisModule {}
