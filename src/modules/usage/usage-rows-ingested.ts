import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';

/**
 * The Redis key (REDIS_PREFIX prepended by the client) counting the usage rows every worker
 * wrote: one count for the installation, which each api's /metrics reports, since workers
 * serve no HTTP.
 */
export const ROWS_INGESTED_KEY = 'metrics:usage-rows-ingested';

/** The worker's side of gatehouse_usage_rows_ingested_total. */
@Injectable()
export class UsageRowsIngested {
  private readonly logger = new Logger('UsageRowsIngested');

  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /**
   * Adds a batch's newly written rows. After the batch's transaction: a worker dying in
   * between leaves those rows uncounted (the batch delivered again inserts none), never
   * counted twice. A failure is logged, not thrown: the batch is in, and is not retried for
   * a metric.
   */
  async add(rows: number): Promise<void> {
    if (rows === 0) return;
    await this.redis.incrby(ROWS_INGESTED_KEY, rows).catch((error: unknown) => {
      this.logger.warn({ msg: 'usage rows ingested not counted', rows, error: String(error) });
    });
  }
}
