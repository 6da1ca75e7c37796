/**
 * The webhook relay's statements, run in one transaction by WebhookDispatchRepository.relay.
 *
 * CLAIM_PENDING: $1 = how many. The oldest undispatched outbox events, locked; events another
 * relay holds are skipped, so several workers relay side by side without sending twice.
 */
export const CLAIM_PENDING = `
  SELECT id FROM outbox_events
  WHERE dispatched_at IS NULL
  ORDER BY created_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED`;

/**
 * RECIPIENTS: $1 = the claimed event ids. One row per event and endpoint to deliver it to:
 * the endpoint it names (a test), else every active endpoint of its organization subscribed
 * to its type or to `*`; never the endpoint a `webhook.endpoint_disabled` is about (turned
 * back on before the relay ran, it is active again). Column names are WebhookDeliveryJob's.
 */
export const RECIPIENTS = `
  SELECT o.organization_id AS "organizationId", o.id AS "eventId", w.id AS "webhookId"
  FROM outbox_events o
  JOIN webhook_endpoints w ON w.organization_id = o.organization_id AND w.active
  WHERE o.id = ANY($1::uuid[])
    AND (o.webhook_id = w.id
      OR (o.webhook_id IS NULL AND (o.type = ANY(w.events) OR '*' = ANY(w.events))))
    AND NOT (o.type = 'webhook.endpoint_disabled' AND o.payload->>'webhook_id' = w.id::text)
  ORDER BY o.created_at, w.id`;

/** MARK_DISPATCHED: $1 = the claimed event ids, now handed to the queue. */
export const MARK_DISPATCHED = `
  UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY($1::uuid[])`;
