import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../../common/request-context.js';
import type { AuditAction, AuditActorType, AuditTargetType } from './audit-actions.js';
import { AuditEntry } from './audit-entry.entity.js';

/** Field names whose values never enter the audit trail. */
const SECRET_FIELD = /pass(word)?|secret|token|hash|^key$|api_?key/i;
export const REDACTED = '[REDACTED]';

export interface AuditEvent {
  action: AuditAction;
  organizationId: string | null;
  target?: { type: AuditTargetType; id: string };
  changes?: Record<string, unknown> | null;
  /** Overrides the request's principal as actor (e.g. the user who just registered or logged in). */
  actor?: { type: AuditActorType; id: string | null };
}

/** Replaces the value of every secret-looking field, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      SECRET_FIELD.test(key) ? REDACTED : redact(inner),
    ]),
  );
}

/** `{field: {from, to}}` for every field of `after` that differs from `before`, redacted. */
export function diff(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [field, to] of Object.entries(after)) {
    const from = before[field];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    changes[field] = SECRET_FIELD.test(field)
      ? REDACTED
      : { from: redact(from) ?? null, to: redact(to) ?? null };
  }
  return changes;
}

function actorOf(
  ctx: RequestContext,
  event: AuditEvent,
): Pick<AuditEntry, 'actorType' | 'actorId'> {
  if (event.actor) return { actorType: event.actor.type, actorId: event.actor.id };
  const principal = ctx.principal;
  if (principal === undefined) return { actorType: 'anonymous', actorId: null };
  return principal.type === 'user'
    ? { actorType: 'user', actorId: principal.userId }
    : { actorType: 'api_key', actorId: principal.keyId };
}

/**
 * Writes one audit entry with `manager`, i.e. inside the caller's transaction, so the entry
 * exists exactly when the change it records was committed. Every repository that changes
 * state calls this from the same transaction as the change.
 */
export async function recordAudit(
  manager: EntityManager,
  ctx: RequestContext,
  event: AuditEvent,
): Promise<void> {
  await manager.insert(AuditEntry, {
    id: randomUUID(),
    createdAt: new Date(),
    organizationId: event.organizationId,
    action: event.action,
    ...actorOf(ctx, event),
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    changes:
      event.changes === undefined || event.changes === null
        ? null
        : (redact(event.changes) as object),
  });
}
