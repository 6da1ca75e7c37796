import type { QueueName } from './queue-names.js';

/**
 * Every job Gatehouse enqueues: its queue, name and payload. Processors narrow on `name`;
 * a feature adds its jobs here when it lands.
 */
export type Job = { queue: 'retention'; name: 'audit.purge'; data: Record<string, never> };

export type JobName<Q extends QueueName> = Extract<Job, { queue: Q }>['name'];
