/**
 * Every BullMQ queue Gatehouse runs. A worker serves all of them unless WORKER_QUEUES pins it
 * to some; the typed job payloads for each live in jobs.ts as the features that use them land.
 * `events` is the envelope parsing step (a polling loop over envelope_pending, no BullMQ jobs).
 */
export const QUEUE_NAMES = ['webhooks', 'usage', 'retention', 'notifications', 'events'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
