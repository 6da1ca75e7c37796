import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { UsageConfig } from '../../config/config.classes.js';
import type { JobName } from '../../queues/jobs.js';
import { HttpMetrics } from '../metrics/http-metrics.js';
import { type UsageBatchRows, type UsageTuple, usageTupleOf } from './usage-record.js';

/** Handed over as soon as this many are waiting (else every UsageConfig.flushMs, 250 ms); also the most records one job carries. */
export const USAGE_BATCH_MAX = 1_000;
/** Jobs per addBulk: one round trip carries at most 10,000 records. */
const BULK_MAX_BATCHES = 10;
/** How long closing waits for the queue to take what is left before giving it up. */
const CLOSE_FLUSH_MS = 5_000;
const WARN_EVERY_MS = 60_000;

/**
 * A usage job's options. Completed jobs are removed at once (a batch is up to ~0.5 MB, and
 * exactly-once is usage_logs' primary key, not the job's history); a Postgres outage is
 * retried for hours (15 attempts, exponential from 1 s) before a batch is left failed, kept
 * for an operator to retry.
 */
const USAGE_JOB_OPTIONS: JobsOptions = {
  attempts: 15,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: false,
};

interface SealedBatch {
  /** The BullMQ job id: adding a batch again after a failed add that did land adds nothing. */
  id: string;
  /** The job's payload; its id_prefix gives the rows their ids, the same on every attempt. */
  data: UsageBatchRows;
}

/**
 * The api side of the usage pipeline: a record per credentialed request (usage-record.ts),
 * built in the onResponse hook and kept in memory, handed to the `usage` queue in batches
 * (addBulk) every 250 ms or at 1,000 records, so a request costs no I/O. One addBulk is in
 * flight at a time; while the queue does not take it (Redis away), records wait here up to
 * USAGE_BUFFER_MAX_RECORDS, then the oldest are dropped, counted
 * (gatehouse_usage_records_dropped_total) and logged once a minute. Closing (the Fastify
 * server's onClose, after in-flight requests have answered) hands over what is left.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit {
  private readonly logger = new Logger('UsageRecorder');
  private open: UsageTuple[] = [];
  /** Sealed batches not yet handed over, oldest first. */
  private readonly waiting: SealedBatch[] = [];
  private waitingRecords = 0;
  private sending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private droppedSinceWarning = 0;
  /** When each kind of warning was last logged: once a minute at most. */
  private readonly warnedAtMs = { enqueue: 0, drop: 0 };
  private readonly dropped: Counter;
  private readonly maxRecords: number;
  private readonly flushMs: number;

  constructor(
    @InjectQueue('usage') private readonly queue: Queue,
    config: UsageConfig,
    metrics: HttpMetrics,
  ) {
    this.maxRecords = config.bufferMaxRecords;
    this.flushMs = config.flushMs;
    this.dropped = new Counter({
      name: 'gatehouse_usage_records_dropped_total',
      help: 'Usage records dropped by this api process because the usage queue did not take them',
      registers: [metrics.registry],
    });
    // Without a listener BullMQ prints every reconnection failure; one line a minute says enough.
    queue.on('error', (error: Error) => {
      if (this.isTimeToWarn('enqueue')) {
        this.logger.warn({ msg: 'usage queue unavailable', error: error.message });
      }
    });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** The onResponse hook's call: records the request if it is someone's usage. */
  recordResponse(request: FastifyRequest, reply: FastifyReply): void {
    if (request.usageRecorded === true) return;
    this.add(usageTupleOf(request, reply, Date.now()));
  }

  /**
   * The call when the client closed the connection before the answer (a request's `close`):
   * recorded now with CLIENT_CLOSED_STATUS if a credential is established by then (the answer
   * may never be written, so onResponse may never run), and not again if it does. A request
   * whose credential is established only later is recorded by onResponse, if that runs.
   */
  recordClosed(request: FastifyRequest, reply: FastifyReply): void {
    request.closedByClient = true;
    const row = usageTupleOf(request, reply, Date.now());
    request.usageRecorded = row !== null;
    this.add(row);
  }

  private add(row: UsageTuple | null): void {
    if (row === null) return;
    this.open.push(row);
    if (this.open.length >= USAGE_BATCH_MAX) void this.flush();
    if (this.waitingRecords + this.open.length > this.maxRecords) this.dropOldest();
  }

  /** Hands every record waiting to the queue; one addBulk at a time. */
  flush(): Promise<void> {
    this.seal();
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  /** Records held here (waiting or not yet sealed), not counting an addBulk in flight. */
  get buffered(): number {
    return this.waitingRecords + this.open.length;
  }

  /** Stops the timer and hands over what is left, giving up (and counting it) after 10 s. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + CLOSE_FLUSH_MS;
    while (this.buffered > 0 || this.sending !== null) {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.flush().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), Math.max(left, 0));
        }),
      ]).finally(() => clearTimeout(timer));
      if (timedOut) {
        const lost = this.buffered;
        this.dropped.inc(lost);
        this.logger.error({ msg: 'usage records lost at shutdown: queue unavailable', lost });
        return;
      }
    }
  }

  private seal(): void {
    if (this.open.length === 0) return;
    const id = randomUUID();
    // A UUID's first 24 characters (74 random bits) and the row's index: unique ids.
    this.waiting.push({ id, data: { id_prefix: id.slice(0, 24), rows: this.open } });
    this.waitingRecords += this.open.length;
    this.open = [];
  }

  private async drain(): Promise<void> {
    const name: JobName<'usage'> = 'usage.record';
    while (this.waiting.length > 0) {
      const batches = this.waiting.splice(0, BULK_MAX_BATCHES);
      const count = batches.reduce((sum, batch) => sum + batch.data.rows.length, 0);
      this.waitingRecords -= count;
      try {
        await this.queue.addBulk(
          batches.map(({ id, data }) => ({
            name,
            data,
            opts: { ...USAGE_JOB_OPTIONS, jobId: id },
          })),
        );
      } catch (error) {
        // Back at the head, same ids; the bound applies to them again.
        this.waiting.unshift(...batches);
        this.waitingRecords += count;
        if (this.isTimeToWarn('enqueue')) {
          this.logger.warn({ msg: 'could not enqueue usage records', error: String(error) });
        }
        if (this.buffered > this.maxRecords) this.dropOldest();
        return;
      }
    }
  }

  /**
   * Drops the oldest records until the buffer is within its bound: whole sealed batches
   * first (so a flood costs one array operation per batch, not per record), then the open
   * batch's oldest.
   */
  private dropOldest(): void {
    let excess = this.buffered - this.maxRecords;
    let count = 0;
    while (excess > 0 && this.waiting.length > 0) {
      const oldest = this.waiting.shift();
      if (oldest === undefined) break;
      this.waitingRecords -= oldest.data.rows.length;
      excess -= oldest.data.rows.length;
      count += oldest.data.rows.length;
    }
    if (excess > 0) {
      this.open.splice(0, excess);
      count += excess;
    }
    this.dropped.inc(count);
    this.droppedSinceWarning += count;
    if (!this.isTimeToWarn('drop')) return;
    this.logger.warn({
      msg: 'usage records dropped: the usage queue does not take them and the buffer is full',
      dropped: this.droppedSinceWarning,
      buffer_max: this.maxRecords,
    });
    this.droppedSinceWarning = 0;
  }

  private isTimeToWarn(kind: 'enqueue' | 'drop'): boolean {
    const now = Date.now();
    if (now - this.warnedAtMs[kind] < WARN_EVERY_MS) return false;
    this.warnedAtMs[kind] = now;
    return true;
  }
}
