import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { JobName } from '../../queues/jobs.js';
import type { LimitEventBatch, QuotaEvent, RateLimitExceededEvent } from './limit-events.js';

/** How often a batch Redis did not take is tried again. */
const FLUSH_MS = 1_000;
const BATCH_MAX = 1_000;
/** An enqueue that has not answered by then is retried later (with the same job id). */
const ENQUEUE_TIMEOUT_MS = 2_000;

interface PendingBatch {
  /** The BullMQ job id: a retried batch that did reach the queue is not added twice. */
  id: string;
  batch: LimitEventBatch;
  /** The add in flight (BullMQ holds it while Redis is away): never a second one meanwhile. */
  adding?: Promise<void>;
}

/**
 * Quota events (a quota crossing its warning threshold, or refusing for the first time in its
 * period: two per quota and period at most), handed to the `usage` queue at once, off the
 * request path, and never dropped: a batch Redis did not take is tried again every second
 * with the same job id. The worker writes them to the outbox (limit-events.writer.ts).
 * Refused requests themselves are not events here: their usage records carry the limit.
 */
@Injectable()
export class LimitEventRecorder implements OnModuleInit {
  private readonly logger = new Logger('LimitEvents');
  private quotaEvents: QuotaEvent[] = [];
  private windowEvents: RateLimitExceededEvent[] = [];
  private readonly pending: PendingBatch[] = [];
  private flushing: Promise<void> | null = null;
  /** Events arrived during a flush: it drains again before it ends. */
  private again = false;
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

  /**
   * The final flush, on the Fastify server's onClose like the usage recorder's: after
   * in-flight requests have answered (their refusals recorded), while the queue is still open.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  quota(event: QuotaEvent): void {
    this.quotaEvents.push(event);
    void this.flush();
  }

  windowRefused(event: RateLimitExceededEvent): void {
    this.windowEvents.push(event);
    void this.flush();
  }

  /** One flush at a time; a call during a flush makes it drain again before it ends. */
  flush(): Promise<void> {
    if (this.flushing !== null) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        if (!(await this.drain())) break;
      } while (this.again);
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Hands every waiting event to the queue; false when Redis did not take them in time. */
  private async drain(): Promise<boolean> {
    while (this.quotaEvents.length > 0 || this.windowEvents.length > 0) {
      this.pending.push({
        id: randomUUID(),
        batch: {
          quotaEvents: this.quotaEvents.splice(0, BATCH_MAX),
          windowEvents: this.windowEvents.splice(0, BATCH_MAX),
        },
      });
    }
    for (let next = this.pending[0]; next !== undefined; next = this.pending[0]) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          this.enqueue(next),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), ENQUEUE_TIMEOUT_MS);
          }),
        ]);
      } catch (error) {
        // Redis is unavailable: the batch (and its id) waits for a later flush.
        this.logger.warn(`could not enqueue quota events: ${String(error)}`);
        return false;
      } finally {
        clearTimeout(timer);
      }
    }
    return true;
  }

  /** The batch's one add; it leaves `pending` when the queue has it, whenever that is. */
  private enqueue(pending: PendingBatch): Promise<void> {
    const name: JobName<'usage'> = 'limit-events.record';
    pending.adding ??= this.queue.add(name, pending.batch, { jobId: pending.id }).then(
      () => {
        const at = this.pending.indexOf(pending);
        if (at !== -1) this.pending.splice(at, 1);
      },
      (error: unknown) => {
        pending.adding = undefined;
        throw error;
      },
    );
    return pending.adding;
  }
}
