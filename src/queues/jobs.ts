import type { IssueAlertJob } from '../modules/events/issue-alerts.js';
import type { LimitEventBatch } from '../modules/rate-limit/limit-events.js';
import type { UsageBatch } from '../modules/usage/usage-record.js';
import type { WebhookDeliveryJob } from '../modules/webhooks/webhook-dispatch.repository.js';
import type { QueueName } from './queue-names.js';

/**
 * Every job Gatehouse enqueues: its queue, name and payload. Processors narrow on `name`;
 * a feature adds its jobs here when it lands.
 */
export type Job =
  | { queue: 'retention'; name: 'audit.purge'; data: Record<string, never> }
  | { queue: 'retention'; name: 'invitations-resets.purge'; data: Record<string, never> }
  | { queue: 'retention'; name: 'usage-logs.purge'; data: Record<string, never> }
  | { queue: 'retention'; name: 'events.purge'; data: Record<string, never> }
  | { queue: 'retention'; name: 'webhooks.purge'; data: Record<string, never> }
  | { queue: 'retention'; name: 'webhooks.lifecycle'; data: Record<string, never> }
  | { queue: 'notifications'; name: 'issue.alert'; data: IssueAlertJob }
  | { queue: 'usage'; name: 'limit-events.record'; data: LimitEventBatch }
  | { queue: 'usage'; name: 'usage.record'; data: UsageBatch }
  | { queue: 'webhooks'; name: 'webhook.deliver'; data: WebhookDeliveryJob };

export type JobName<Q extends QueueName> = Extract<Job, { queue: Q }>['name'];
export type JobData<N extends Job['name']> = Extract<Job, { name: N }>['data'];
