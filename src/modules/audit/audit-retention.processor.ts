import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob, Queue } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobName } from '../../queues/jobs.js';
import { AuditRetention, type PurgeResult } from './audit-retention.js';

const HOUR_MS = 3_600_000;

/**
 * The retention queue's worker: `audit.purge` at start and every hour (a BullMQ job scheduler, so one run
 * per hour however many workers there are). Runs only on workers that serve `retention`.
 */
@Processor('retention', { autorun: false })
export class AuditRetentionProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly retention: AuditRetention,
    private readonly queues: QueueConfig,
    @InjectQueue('retention') private readonly queue: Queue,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.queues.workerQueues.includes('retention')) return;
    const name: JobName<'retention'> = 'audit.purge';
    await this.queue.upsertJobScheduler('audit-purge', { every: HOUR_MS }, { name, data: {} });
    void this.worker.run();
  }

  async process(
    job: BullJob<Record<string, never>, PurgeResult, JobName<'retention'>>,
  ): Promise<PurgeResult> {
    switch (job.name) {
      case 'audit.purge':
        return this.retention.purge();
    }
  }
}
