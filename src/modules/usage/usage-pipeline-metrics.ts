import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';
import { HttpMetrics } from '../metrics/http-metrics.js';
import { ROWS_INGESTED_KEY } from './usage-rows-ingested.js';

/** A scrape does not wait longer than this for Redis (BullMQ's connection queues commands while it reconnects). */
const READ_TIMEOUT_MS = 1_000;

interface PipelineReading {
  /** Batches not ingested yet: waiting, prioritized, delayed for a retry, or being processed. */
  pending: number;
  /** Batches left failed after their last attempt, kept for an operator to retry. */
  failed: number;
  /** Seconds since the oldest pending batch was enqueued; 0 with none. */
  oldestAgeSeconds: number;
  rowsIngested: number;
}

/**
 * The usage pipeline as the installation's api processes see it, read from Redis at scrape
 * time (one getJobCounts, the oldest job id of each list, their enqueue timestamps, and the
 * workers' ingested-rows count), so an operator scraping any api process sees the backlog
 * even when no worker runs. The same values on every api process: aggregate with max, not
 * sum. When Redis does not answer within a second the gauges read NaN (unknown, not 0) and
 * the counter keeps its last value.
 */
@Injectable()
export class UsagePipelineMetrics {
  private reading: Promise<PipelineReading | null> | null = null;

  constructor(
    @InjectQueue('usage') private readonly queue: Queue,
    @Inject(REDIS) private readonly redis: RedisClient,
    metrics: HttpMetrics,
  ) {
    // The four collect() calls of one scrape run together and share one reading.
    const read = () => {
      this.reading ??= this.read().finally(() => {
        this.reading = null;
      });
      return this.reading;
    };
    const gauge = (name: string, help: string, value: (r: PipelineReading) => number) =>
      new Gauge({
        name,
        help,
        registers: [metrics.registry],
        async collect() {
          const reading = await read();
          this.set(reading === null ? Number.NaN : value(reading));
        },
      });
    gauge(
      'gatehouse_usage_queue_depth',
      'Usage batches (jobs of up to 1,000 records) not ingested yet: waiting, delayed for a retry or being processed',
      (r) => r.pending,
    );
    gauge(
      'gatehouse_usage_queue_oldest_pending_age_seconds',
      'Seconds since the oldest usage batch not ingested yet was enqueued (0 when none is pending)',
      (r) => r.oldestAgeSeconds,
    );
    gauge(
      'gatehouse_usage_queue_failed',
      'Usage batches left failed after their last attempt, kept in the queue for an operator to retry',
      (r) => r.failed,
    );
    new Counter({
      name: 'gatehouse_usage_rows_ingested_total',
      help: 'Usage rows written to usage_logs by all workers (a batch delivered again adds none)',
      registers: [metrics.registry],
      async collect() {
        const reading = await read();
        if (reading === null) return;
        this.reset();
        this.inc(reading.rowsIngested);
      },
    });
  }

  private async read(): Promise<PipelineReading | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), READ_TIMEOUT_MS);
    });
    const reading = Promise.all([this.counts(), this.oldestAgeSeconds(), this.ingested()]).then(
      ([counts, oldestAgeSeconds, rowsIngested]) => ({ ...counts, oldestAgeSeconds, rowsIngested }),
      () => null,
    );
    return Promise.race([reading, timeout]).finally(() => clearTimeout(timer));
  }

  private async counts(): Promise<{ pending: number; failed: number }> {
    const counts = await this.queue.getJobCounts(
      'waiting',
      'prioritized',
      'delayed',
      'active',
      'failed',
    );
    const { failed = 0, ...pending } = counts;
    return { pending: Object.values(pending).reduce((sum, n) => sum + n, 0), failed };
  }

  /**
   * The oldest of: the next batch to be taken (the wait list's far end), the batch taken
   * longest ago (the active list's far end), and the next retry due (delayed is ordered by
   * due time, so an older batch backing off longer may hide behind it). Only their ids and
   * `timestamp` fields are read, not their records; every key carries the queue's hash tag.
   */
  private async oldestAgeSeconds(): Promise<number> {
    const ids = await this.queue.getRanges(['wait', 'active', 'delayed'], 0, 0, true);
    if (ids.length === 0) return 0;
    const client = await this.queue.getBackend().client;
    const stamps = await Promise.all(
      ids.map((id) => client.hget(this.queue.toKey(id), 'timestamp')),
    );
    const enqueuedAt = stamps.map(Number).filter((stamp) => Number.isFinite(stamp) && stamp > 0);
    if (enqueuedAt.length === 0) return 0;
    return Math.max(0, (Date.now() - Math.min(...enqueuedAt)) / 1000);
  }

  private async ingested(): Promise<number> {
    return Number((await this.redis.get(ROWS_INGESTED_KEY)) ?? 0);
  }
}
