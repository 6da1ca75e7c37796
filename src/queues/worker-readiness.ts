import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { QueueConfig } from '../config/config.classes.js';
import { warnUnlessNoEviction } from '../redis/eviction-policy.js';
import { REDIS, type RedisClient } from '../redis/redis-client.js';

/**
 * Proves the worker's dependencies answer before it says it is ready, and warns once if Redis
 * may evict BullMQ's keys.
 */
@Injectable()
export class WorkerReadiness implements OnApplicationBootstrap {
  private readonly logger = new Logger('Worker');

  constructor(
    private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly queues: QueueConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource.query('SELECT 1');
    await this.redis.ping();
    await warnUnlessNoEviction(this.redis, this.logger);
    this.logger.log({ msg: 'worker ready', queues: this.queues.workerQueues, pid: process.pid });
  }
}
