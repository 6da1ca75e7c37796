import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';

export interface StoredEnvelopeInput {
  organizationId: string;
  projectId: number;
  /** The decoded envelope, exactly as an SDK sends it. */
  body: Buffer | string;
  /** The envelope header's event_id, as a uuid (null without one). */
  eventId?: string | null;
  receivedAt?: Date;
}

/**
 * Stores an envelope the way the ingest route does (an `envelopes` row with the gzip of the
 * decoded body, and its `envelope_pending` row, in one transaction), for the worker to parse.
 * Returns the envelope's id.
 */
export async function storeEnvelope(
  dataSource: DataSource,
  input: StoredEnvelopeInput,
): Promise<string> {
  const id = randomUUID();
  const body = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body);
  const receivedAt = input.receivedAt ?? new Date();
  const items = body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"type"')).length;
  await dataSource.transaction(async (manager) => {
    await manager.query(
      `INSERT INTO envelopes (id, received_at, organization_id, project_id, event_id, body,
         body_bytes, item_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        receivedAt,
        input.organizationId,
        input.projectId,
        input.eventId ?? null,
        gzipSync(body),
        body.length,
        items,
      ],
    );
    await manager.query('INSERT INTO envelope_pending (envelope_id, received_at) VALUES ($1, $2)', [
      id,
      receivedAt,
    ]);
  });
  return id;
}

/** A one-event envelope: header line, item header, the event as JSON. */
export function eventEnvelope(event: Record<string, unknown>, header: object = {}): string {
  const payload = JSON.stringify(event);
  return `${JSON.stringify(header)}\n${JSON.stringify({ type: 'event', length: Buffer.byteLength(payload) })}\n${payload}\n`;
}
