import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobData, JobName } from '../../queues/jobs.js';
import { runWorker } from '../../queues/run-worker.js';
import { LimitEventsWriter } from './limit-events.writer.js';

/** The `usage` queue's worker: writes batches of rate-limit and quota events. */
@Processor('usage', { autorun: false })
export class LimitEventsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly writer: LimitEventsWriter,
    private readonly queues: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('usage')) runWorker(this.worker, 'usage');
  }

  async process(
    job: BullJob<JobData<'limit-events.record'>, unknown, JobName<'usage'>>,
  ): Promise<unknown> {
    switch (job.name) {
      case 'limit-events.record':
        return this.writer.write(job.data);
    }
  }
}
