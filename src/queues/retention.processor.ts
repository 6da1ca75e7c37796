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
import { EventsRetention, type EventsPurge } from '../modules/events/events-retention.js';
import { UsageLogsRetention } from '../modules/usage/usage-logs-retention.js';
import { type LifecycleRun, WebhookLifecycle } from '../modules/webhooks/webhook-lifecycle.js';
import { WebhooksRetention, type WebhooksPurge } from '../modules/webhooks/webhooks-retention.js';
import type { JobName } from './jobs.js';

const HOUR_MS = 3_600_000;
/** The webhook lifecycle job runs this often (expiry and sunset thresholds are days apart). */
const LIFECYCLE_MS = 10 * 60_000;

/**
 * The retention queue's worker: each purge at start and every hour, the webhook lifecycle job
 * every 10 minutes (BullMQ job schedulers, so
 * one run per hour however many workers there are). Runs only on workers that serve
 * `retention`. One processor per queue: BullMQ hands any job of the queue to any of its workers.
 */
@Processor('retention', { autorun: false })
export class RetentionProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly audit: AuditRetention,
    private readonly invitationsResets: InvitationsResetsRetention,
    private readonly usageLogs: UsageLogsRetention,
    private readonly events: EventsRetention,
    private readonly webhooks: WebhooksRetention,
    private readonly webhookLifecycle: WebhookLifecycle,
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
      'events.purge',
      'webhooks.purge',
    ];
    for (const name of jobs) {
      await this.queue.upsertJobScheduler(
        name.replace('.', '-'),
        { every: HOUR_MS },
        { name, data: {} },
      );
    }
    await this.queue.upsertJobScheduler(
      'webhooks-lifecycle',
      { every: LIFECYCLE_MS },
      { name: 'webhooks.lifecycle', data: {} },
    );
    // rate_limit_events is gone (refusals are read from usage_logs): its hourly purge too.
    await this.queue.removeJobScheduler('rate-limit-events-purge');
    runWorker(this.worker, 'retention');
  }

  async process(
    job: BullJob<Record<string, never>, unknown, JobName<'retention'>>,
  ): Promise<
    PurgeResult | InvitationsResetsPurgeResult | WebhooksPurge | EventsPurge | LifecycleRun
  > {
    switch (job.name) {
      case 'audit.purge':
        return this.audit.purge();
      case 'invitations-resets.purge':
        return this.invitationsResets.purge();
      case 'usage-logs.purge':
        return this.usageLogs.purge();
      case 'events.purge':
        return this.events.purge();
      case 'webhooks.purge':
        return this.webhooks.purge();
      case 'webhooks.lifecycle':
        return this.webhookLifecycle.run();
    }
  }
}
