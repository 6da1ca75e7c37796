import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueConfig, RedisConfig } from '../config/config.classes.js';

/**
 * BullMQ's root configuration, shared by the api (which enqueues) and the worker (which
 * processes). QUEUE_PREFIX namespaces every queue key; BullMQ keeps its own connections,
 * so the shared client's keyPrefix never applies to them.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RedisConfig, QueueConfig],
      useFactory: (redis: RedisConfig, queues: QueueConfig) => ({
        connection: { url: redis.url, maxRetriesPerRequest: null },
        prefix: queues.prefix,
        defaultJobOptions: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 1_000 },
          removeOnComplete: { age: 24 * 3600, count: 10_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      }),
    }),
  ],
  exports: [BullModule],
})
export class QueuesModule {}
