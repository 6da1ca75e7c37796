import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueConfig } from '../config/config.classes.js';
import { QUEUE_CONNECTION, type QueueConnection } from '../redis/redis-client.js';

/**
 * BullMQ's root configuration, shared by the api (which enqueues) and the worker (which
 * processes). The prefix (QUEUE_PREFIX as a hash tag) namespaces every queue key and keeps
 * each queue's keys in one Redis Cluster slot; the shared client's keyPrefix never applies.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [QUEUE_CONNECTION, QueueConfig],
      useFactory: (connection: QueueConnection, queues: QueueConfig) => ({
        connection,
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
