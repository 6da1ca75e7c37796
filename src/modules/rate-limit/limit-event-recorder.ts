import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { JobName } from '../../queues/jobs.js';
import type { LimitEventBatch, QuotaEvent, RateLimitEvent } from './limit-events.js';

const FLUSH_MS = 1_000;
const BATCH_MAX = 1_000;
/** Under a flood of refusals, keep at most this many waiting; count (and log) the rest. */
const BUFFER_MAX = 20_000;

/**
 * Rate-limit and quota events, collected on the request path in memory and handed to the
 * `usage` queue in batches (every second, or every 1,000 events), so a refused request costs
 * no I/O. The worker writes them to Postgres (limit-events.writer.ts).
 */
@Injectable()
export class LimitEventRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LimitEvents');
  private rateLimitEvents: RateLimitEvent[] = [];
  private quotaEvents: QuotaEvent[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(@InjectQueue('usage') private readonly queue: Queue) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  rateLimited(event: RateLimitEvent): void {
    if (this.rateLimitEvents.length >= BUFFER_MAX) {
      this.dropped += 1;
      return;
    }
    this.rateLimitEvents.push(event);
    if (this.rateLimitEvents.length >= BATCH_MAX) void this.flush();
  }

  /** Quota events are rare (two per quota and period) and are never dropped. */
  quota(event: QuotaEvent): void {
    this.quotaEvents.push(event);
  }

  async flush(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.warn({ msg: 'rate-limit events dropped (buffer full)', dropped: this.dropped });
      this.dropped = 0;
    }
    while (this.rateLimitEvents.length > 0 || this.quotaEvents.length > 0) {
      const batch: LimitEventBatch = {
        rateLimitEvents: this.rateLimitEvents.splice(0, BATCH_MAX),
        quotaEvents: this.quotaEvents.splice(0, BATCH_MAX),
      };
      const name: JobName<'usage'> = 'limit-events.record';
      try {
        await this.queue.add(name, batch);
      } catch (error) {
        // Redis is down: keep the batch for the next flush (the buffer cap still applies).
        this.rateLimitEvents.unshift(...batch.rateLimitEvents);
        this.quotaEvents.unshift(...batch.quotaEvents);
        this.logger.warn(`could not enqueue rate-limit events: ${String(error)}`);
        return;
      }
    }
  }
}
