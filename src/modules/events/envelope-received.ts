import type { EntityManager } from 'typeorm';
import { addOutboxEvent } from '../webhooks/outbox-writer.js';
import type { EventRow } from './envelope-events.js';

/** An issue as the step's upsert returned it. */
export interface UpsertedIssue {
  id: string;
  project_id: number;
  fingerprint_hash: string;
  title: string;
  level: string | null;
  created: boolean;
  /** Its last_notified_at was just set: this step sends its `envelope.received`. */
  notify: boolean;
}

/**
 * The `envelope.received` webhook events of a step, in its transaction: one per issue whose
 * upsert said `notify` (at most one a minute per issue), about the issue's latest event in
 * the step. Data: the event's id and fields the API lists, its issue, whether the issue is new.
 */
export async function addEnvelopeReceivedEvents(
  manager: EntityManager,
  issues: UpsertedIssue[],
  rows: EventRow[],
): Promise<number> {
  const latest = new Map<string, EventRow>();
  for (const row of rows) latest.set(`${row.envelope.projectId}:${row.fingerprintHash}`, row);
  let added = 0;
  for (const issue of issues) {
    const event = latest.get(`${issue.project_id}:${issue.fingerprint_hash}`);
    if (!issue.notify || event === undefined) continue;
    await addOutboxEvent(manager, {
      organizationId: event.envelope.organizationId,
      type: 'envelope.received',
      data: {
        event_id: event.id,
        envelope_id: event.envelope.id,
        project_id: issue.project_id,
        issue: {
          id: Number(issue.id),
          title: issue.title,
          level: issue.level,
          is_new: issue.created,
        },
        received_at: event.envelope.receivedAt.toISOString(),
        level: event.level,
        message: event.message,
        exception_type: event.exceptionType,
        exception_value: event.exceptionValue,
        release: event.release,
        environment: event.environment,
      },
    });
    added += 1;
  }
  return added;
}
