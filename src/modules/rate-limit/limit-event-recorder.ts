import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { JobName } from '../../queues/jobs.js';
import type { LimitEventBatch, QuotaEvent, RateLimitEvent } from './limit-events.js';

const FLUSH_MS = 1_000;
const BATCH_MAX = 1_000;
/** Under a flood of refusals, keep at most this many rate-limit events waiting; count the rest. */
const BUFFER_MAX = 20_000;
/** An enqueue that has not answered by then is retried later (with the same job id). */
const ENQUEUE_TIMEOUT_MS = 2_000;

interface PendingBatch {
  /** The BullMQ job id: a retried batch that did reach the queue is not added twice. */
  id: string;
  batch: LimitEventBatch;
}

/**
 * Rate-limit and quota events, collected on the request path in memory and handed to the
 * `usage` queue in batches (every second, or every 1,000 events), so a refused request costs
 * no I/O. Quota events (two per quota and period at most) are handed over at once and never
 * dropped; rate-limit events beyond 20,000 waiting (Redis down under a flood) are counted
 * and logged instead. The worker writes them to Postgres (limit-events.writer.ts).
 */
@Injectable()
export class LimitEventRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LimitEvents');
  private rateLimitEvents: RateLimitEvent[] = [];
  private quotaEvents: QuotaEvent[] = [];
  private readonly pending: PendingBatch[] = [];
  private waitingRateLimitEvents = 0;
  private dropped = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(@InjectQueue('usage') private readonly queue: Queue) {
    // Without a listener BullMQ prints every reconnection failure; one line a minute says enough.
    let reportedAtMs = 0;
    queue.on('error', (error: Error) => {
      if (Date.now() - reportedAtMs < 60_000) return;
      reportedAtMs = Date.now();
      this.logger.warn(`usage queue unavailable: ${error.message}`);
    });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  rateLimited(event: RateLimitEvent): void {
    if (this.waitingRateLimitEvents >= BUFFER_MAX) {
      this.dropped += 1;
      return;
    }
    this.waitingRateLimitEvents += 1;
    this.rateLimitEvents.push(event);
    if (this.rateLimitEvents.length >= BATCH_MAX) void this.flush();
  }

  quota(event: QuotaEvent): void {
    this.quotaEvents.push(event);
    void this.flush();
  }

  /** One flush at a time; a call during a flush waits for it. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.warn({ msg: 'rate-limit events dropped (buffer full)', dropped: this.dropped });
      this.dropped = 0;
    }
    while (this.rateLimitEvents.length > 0 || this.quotaEvents.length > 0) {
      this.pending.push({
        id: randomUUID(),
        batch: {
          rateLimitEvents: this.rateLimitEvents.splice(0, BATCH_MAX),
          quotaEvents: this.quotaEvents.splice(0, BATCH_MAX),
        },
      });
    }
    const name: JobName<'usage'> = 'limit-events.record';
    for (let next = this.pending[0]; next !== undefined; next = this.pending[0]) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          this.queue.add(name, next.batch, { jobId: next.id }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), ENQUEUE_TIMEOUT_MS);
          }),
        ]);
      } catch (error) {
        // Redis is unavailable: keep the batch (and its id) for the next flush.
        this.logger.warn(`could not enqueue rate-limit events: ${String(error)}`);
        return;
      } finally {
        clearTimeout(timer);
      }
      this.pending.shift();
      this.waitingRateLimitEvents -= next.batch.rateLimitEvents.length;
    }
  }
}
