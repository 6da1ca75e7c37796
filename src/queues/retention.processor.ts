import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob, Queue } from 'bullmq';
import { QueueConfig } from '../config/config.classes.js';
import { runWorker } from './run-worker.js';
import { AuditRetention, type PurgeResult } from '../modules/audit/audit-retention.js';
import {
  InvitationsResetsRetention,
  type InvitationsResetsPurgeResult,
} from '../modules/users/invitations-resets-retention.js';
import { UsageLogsRetention } from '../modules/usage/usage-logs-retention.js';
import type { JobName } from './jobs.js';

const HOUR_MS = 3_600_000;

/**
 * The retention queue's worker: each purge at start and every hour (BullMQ job schedulers, so
 * one run per hour however many workers there are). Runs only on workers that serve
 * `retention`. One processor per queue: BullMQ hands any job of the queue to any of its workers.
 */
@Processor('retention', { autorun: false })
export class RetentionProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly audit: AuditRetention,
    private readonly invitationsResets: InvitationsResetsRetention,
    private readonly usageLogs: UsageLogsRetention,
    private readonly queues: QueueConfig,
    @InjectQueue('retention') private readonly queue: Queue,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.queues.workerQueues.includes('retention')) return;
    const jobs: JobName<'retention'>[] = [
      'audit.purge',
      'invitations-resets.purge',
      'usage-logs.purge',
    ];
    for (const name of jobs) {
      await this.queue.upsertJobScheduler(
        name.replace('.', '-'),
        { every: HOUR_MS },
        { name, data: {} },
      );
    }
    // rate_limit_events is gone (refusals are read from usage_logs): its hourly purge too.
    await this.queue.removeJobScheduler('rate-limit-events-purge');
    runWorker(this.worker, 'retention');
  }

  async process(
    job: BullJob<Record<string, never>, unknown, JobName<'retention'>>,
  ): Promise<PurgeResult | InvitationsResetsPurgeResult> {
    switch (job.name) {
      case 'audit.purge':
        return this.audit.purge();
      case 'invitations-resets.purge':
        return this.invitationsResets.purge();
      case 'usage-logs.purge':
        return this.usageLogs.purge();
    }
  }
}
