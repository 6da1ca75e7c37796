import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobData, JobName } from '../../queues/jobs.js';
import { runWorker } from '../../queues/run-worker.js';
import { type AlertOutcome, IssueAlerts } from './issue-alerts.js';

/** The `notifications` queue's worker: new-issue alerts (issue-alerts.ts). */
@Processor('notifications', { autorun: false, concurrency: 5 })
export class AlertsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly alerts: IssueAlerts,
    private readonly queues: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('notifications')) runWorker(this.worker, 'notifications');
  }

  process(
    job: BullJob<JobData<'issue.alert'>, AlertOutcome, JobName<'notifications'>>,
  ): Promise<AlertOutcome> {
    return this.alerts.send(job.data);
  }
}
