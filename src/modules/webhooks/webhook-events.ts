/**
 * Every event type a webhook endpoint can subscribe to (API.md, Webhooks), and `*` for all.
 * An endpoint's `events` naming anything else is a 400.
 */
export const WEBHOOK_EVENT_TYPES = [
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'api_key.expired',
  'api_key.expiring',
  'rate_limit.exceeded',
  'quota.warning',
  'quota.exceeded',
  'user.created',
  'user.updated',
  'user.deleted',
  'organization.member_added',
  'organization.member_removed',
  'project.created',
  'project.deleted',
  'envelope.received',
  'api_version.deprecated',
  'api_version.sunset_approaching',
  'webhook.endpoint_disabled',
  'webhook.test',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const ALL_EVENTS = '*';
export const WEBHOOK_EVENT_FILTERS = [ALL_EVENTS, ...WEBHOOK_EVENT_TYPES] as const;

/** The wire id of an outbox event: `evt_` and its UUID's 32 hex digits. */
export function wireEventId(outboxId: string): string {
  return `evt_${outboxId.replace(/-/g, '')}`;
}
