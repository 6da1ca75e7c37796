import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job as BullJob, DelayedError } from 'bullmq';
import { QueueConfig } from '../../config/config.classes.js';
import type { JobData, JobName } from '../../queues/jobs.js';
import { runWorker } from '../../queues/run-worker.js';
import { type AttemptOutcome, WebhookDeliverer } from './webhook-deliverer.js';
import { WebhookEndpointSlots } from './webhook-endpoint-slots.js';
import { webhookBackoff } from './webhook-retry.js';

/** Thrown for a failed attempt so that BullMQ schedules the next one (webhookBackoff). */
export class DeliveryFailed extends Error {
  constructor() {
    super('webhook delivery failed; see the attempt recorded in webhook_deliveries');
    this.name = 'DeliveryFailed';
  }
}

/** How long a job waits when its endpoint has no free slot: 1 s, jittered up to 1.5 s. */
export function slotWaitMs(): number {
  return 1000 + Math.floor(Math.random() * 500);
}

/**
 * A full endpoint whose oldest delivery in flight started less than this ago answers fast: a
 * slot frees within milliseconds, so the job asks again here (every 10-20 ms, for at most
 * SLOT_ASK_MAX_MS) instead of waiting a second in the delayed set. A slower endpoint's jobs
 * go to the delayed set at once, so they never hold the worker's concurrency.
 */
const FAST_RECEIVER_MS = 100;
const SLOT_ASK_MAX_MS = 250;

/**
 * The `webhooks` queue's worker: one attempt per job run; a failed attempt throws so BullMQ
 * retries it on the delivery schedule (webhook-retry.ts). Runs only on workers that serve
 * `webhooks`. A job whose endpoint already has ENDPOINT_CONCURRENCY deliveries in flight
 * goes back to the delayed set for about a second (not an attempt: nothing is recorded and
 * BullMQ does not count it), so a hanging receiver cannot take every slot of the worker;
 * unless the endpoint answers fast (takeSlot), then the job asks again for a moment first.
 */
@Processor('webhooks', {
  autorun: false,
  concurrency: 20,
  // A worker that dies mid-delivery loses its lock within 20 s (renewed every 10 s while it
  // lives, however long the attempt) and the job runs again on another or a restarted worker
  // within 5 s more; only a job stalled this often fails for good.
  lockDuration: 20_000,
  stalledInterval: 5_000,
  maxStalledCount: 5,
  settings: { backoffStrategy: (attemptsMade: number) => webhookBackoff(attemptsMade) },
})
export class WebhooksProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly deliverer: WebhookDeliverer,
    private readonly queues: QueueConfig,
    private readonly slots: WebhookEndpointSlots,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('webhooks')) runWorker(this.worker, 'webhooks');
  }

  async process(
    job: BullJob<JobData<'webhook.deliver'>, AttemptOutcome, JobName<'webhooks'>>,
    token?: string,
  ): Promise<AttemptOutcome> {
    const { webhookId } = job.data;
    const slot = job.id ?? `${job.data.eventId}-${webhookId}`;
    if (!(await this.takeSlot(webhookId, slot))) {
      await job.moveToDelayed(Date.now() + slotWaitMs(), token);
      throw new DelayedError();
    }
    try {
      const outcome = await this.deliverer.attempt(job.data);
      if (outcome === 'failed') throw new DeliveryFailed();
      return outcome;
    } finally {
      await this.slots.release(webhookId, slot);
    }
  }

  /** One of the endpoint's slots, asked for again while it answers fast; false when none. */
  private async takeSlot(webhookId: string, slot: string): Promise<boolean> {
    const until = Date.now() + SLOT_ASK_MAX_MS;
    for (;;) {
      const answer = await this.slots.acquire(webhookId, slot);
      if (answer.taken) return true;
      if (answer.oldestMs >= FAST_RECEIVER_MS || Date.now() >= until) return false;
      await sleep(10 + Math.random() * 10);
    }
  }
}
