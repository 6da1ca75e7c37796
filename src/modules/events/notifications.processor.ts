import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobName } from '../../queues/jobs.js';
import { runWorker } from '../../queues/run-worker.js';
import { type IssueAlertJob, IssueAlerts } from './issue-alerts.js';

/** The notifications queue's worker: new-issue Telegram alerts. Runs on workers serving `notifications`. */
@Processor('notifications', { autorun: false })
export class NotificationsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly alerts: IssueAlerts,
    private readonly queues: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('notifications')) runWorker(this.worker, 'notifications');
  }

  async process(job: BullJob<IssueAlertJob, number, JobName<'notifications'>>): Promise<number> {
    switch (job.name) {
      case 'issue.alert':
        return this.alerts.send(job.data, (sent) => job.updateData({ ...job.data, sent }));
    }
  }
}
