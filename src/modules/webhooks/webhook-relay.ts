import { InjectQueue } from '@nestjs/bullmq';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { PollingLoop } from '../../common/polling-loop.js';
import { DatabaseConfig, QueueConfig } from '../../config/config.classes.js';
import type { JobName } from '../../queues/jobs.js';
import { Deadlines } from '../../redis/deadlines.js';
import { OutboxListener } from './outbox-listener.js';
import {
  type WebhookDeliveryJob,
  WebhookDispatchRepository,
} from './webhook-dispatch.repository.js';
import { DELIVERY_ATTEMPTS, WEBHOOK_BACKOFF } from './webhook-retry.js';

/**
 * How often an idle relay looks for new outbox events it was not told about (a notification
 * missed while its listener reconnects).
 */
const POLL_MS = 250;
/** Events claimed per pass (one transaction, one addBulk). */
const BATCH = 100;
/**
 * How long a pass waits for the queue to take its jobs before rolling back (the events stay
 * pending; jobs that did land are not added twice): a Redis outage must not hold the claimed
 * rows' transaction, and its pooled connection, open for as long as it lasts.
 */
const ENQUEUE_TIMEOUT_MS = 10_000;

const DELIVER: JobName<'webhooks'> = 'webhook.deliver';

/** The scheduled attempts of a delivery job: the retry schedule, failed jobs kept a week. */
export const DELIVERY_JOB_OPTIONS: JobsOptions = {
  attempts: DELIVERY_ATTEMPTS,
  backoff: { type: WEBHOOK_BACKOFF },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * A delivery job's id, from its event and endpoint: handing the same event over again (a
 * relay that died before marking it) adds nothing while the first job is still kept.
 */
export function deliveryJobId(job: WebhookDeliveryJob): string {
  return `deliver-${job.eventId}-${job.webhookId}`;
}

/**
 * The outbox relay, on workers that serve the `webhooks` queue: as soon as a transaction that
 * wrote outbox events commits (its NOTIFY, OutboxListener), else every 250 ms, and at once again
 * after a full batch, it claims undispatched outbox events, adds one delivery job per event
 * and subscribed endpoint, and marks the events dispatched after the queue took the jobs.
 */
@Injectable()
export class WebhookRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookRelay');
  private readonly loop = new PollingLoop(() => this.pass(), POLL_MS);
  private failing = false;
  private readonly enqueueDeadline = new Deadlines(ENQUEUE_TIMEOUT_MS);
  private readonly listener: OutboxListener;

  constructor(
    private readonly dispatch: WebhookDispatchRepository,
    private readonly queues: QueueConfig,
    @InjectQueue('webhooks') private readonly queue: Queue,
    database: DatabaseConfig,
  ) {
    this.listener = new OutboxListener(database.url, () => this.loop.wake(0), this.logger);
  }

  onApplicationBootstrap(): void {
    if (!this.queues.workerQueues.includes('webhooks')) return;
    this.loop.start(0);
    this.listener.start();
  }

  /** Stops before the database and queue connections close (their own shutdown hooks). */
  async onModuleDestroy(): Promise<void> {
    await this.listener.stop();
    await this.loop.stop();
  }

  /** One relay pass; true when it claimed a full batch (more may be waiting). */
  async pass(): Promise<boolean> {
    try {
      const { events } = await this.dispatch.relay(BATCH, async (jobs) => {
        await this.enqueueDeadline.within(
          this.queue.addBulk(
            jobs.map((job) => ({
              name: DELIVER,
              data: job,
              opts: { ...DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(job) },
            })),
          ),
        );
      });
      if (this.failing) this.logger.log('webhook relay working again');
      this.failing = false;
      return events === BATCH;
    } catch (error) {
      if (!this.failing) {
        this.logger.warn(
          `webhook relay failed, retrying: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      this.failing = true;
      return false;
    }
  }
}
