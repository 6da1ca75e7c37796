import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job as BullJob } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobData, JobName } from '../../queues/jobs.js';
import { runWorker } from '../../queues/run-worker.js';
import { type AttemptOutcome, WebhookDeliverer } from './webhook-deliverer.js';
import { webhookBackoff } from './webhook-retry.js';

/** Thrown for a failed attempt so that BullMQ schedules the next one (webhookBackoff). */
export class DeliveryFailed extends Error {
  constructor() {
    super('webhook delivery failed; see the attempt recorded in webhook_deliveries');
    this.name = 'DeliveryFailed';
  }
}

/**
 * The `webhooks` queue's worker: one attempt per job run; a failed attempt throws so BullMQ
 * retries it on the delivery schedule (webhook-retry.ts). Runs only on workers that serve
 * `webhooks`.
 */
@Processor('webhooks', {
  autorun: false,
  concurrency: 20,
  settings: { backoffStrategy: (attemptsMade: number) => webhookBackoff(attemptsMade) },
})
export class WebhooksProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly deliverer: WebhookDeliverer,
    private readonly queues: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('webhooks')) runWorker(this.worker, 'webhooks');
  }

  async process(
    job: BullJob<JobData<'webhook.deliver'>, AttemptOutcome, JobName<'webhooks'>>,
  ): Promise<AttemptOutcome> {
    const outcome = await this.deliverer.attempt(job.data);
    if (outcome === 'failed') throw new DeliveryFailed();
    return outcome;
  }
}
