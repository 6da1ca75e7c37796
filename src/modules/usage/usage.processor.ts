import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobData, JobName } from '../../queues/jobs.js';
import { runWorker } from '../../queues/run-worker.js';
import { LimitEventsWriter } from '../rate-limit/limit-events.writer.js';
import { UsageLogsWriter } from './usage-logs.writer.js';
import { UsageRollups } from './usage-rollups.js';
import { UsageRowsIngested } from './usage-rows-ingested.js';

/**
 * The `usage` queue's worker (one processor per queue: BullMQ hands any job of the queue to
 * any of its workers): usage records into usage_logs, and rate-limit and quota events.
 * A usage batch processed twice is harmless (usage_logs skips rows it has), so a batch whose
 * worker died is taken back early: its lock lapses after 10 s (renewed every 5 s while the
 * worker lives) and stalled jobs are looked for every 5 s, instead of BullMQ's 30 s each.
 */
@Processor('usage', {
  autorun: false,
  // Batches at once: some are COPYed while others are fetched from Redis and encoded.
  concurrency: 2,
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 5,
})
export class UsageProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly usageLogs: UsageLogsWriter,
    private readonly limitEvents: LimitEventsWriter,
    private readonly rowsIngested: UsageRowsIngested,
    private readonly rollups: UsageRollups,
    private readonly queues: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('usage')) runWorker(this.worker, 'usage');
  }

  async process(
    job: BullJob<JobData<JobName<'usage'>>, unknown, JobName<'usage'>>,
  ): Promise<unknown> {
    switch (job.name) {
      case 'usage.record': {
        const written = await this.usageLogs.write(job.data as JobData<'usage.record'>);
        await this.rowsIngested.add(written.inserted);
        if (written.inserted > 0) this.rollups.pendingAdded();
        return written;
      }
      case 'limit-events.record':
        return this.limitEvents.write(job.data as JobData<'limit-events.record'>);
    }
  }
}
