import { Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';
import type { QueueName } from './queue-names.js';

/**
 * Starts a processor's BullMQ worker. Its connection errors (Redis restarting, a cluster
 * failing over) are logged once per outage as a warning instead of surfacing as unhandled
 * 'error' events; BullMQ keeps retrying by itself and the worker resumes when Redis is back.
 */
export function runWorker(worker: Worker, queue: QueueName): void {
  const logger = new Logger(`Worker:${queue}`);
  let failing = false;
  worker.on('error', (error: Error) => {
    if (!failing) logger.warn(`${queue} queue unavailable, retrying: ${error.message}`);
    failing = true;
  });
  const recovered = () => {
    if (failing) logger.log(`${queue} queue available again`);
    failing = false;
  };
  worker.on('completed', recovered);
  worker.on('drained', recovered);
  void worker.run();
}
