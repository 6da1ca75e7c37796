import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { type ParsedEnvelope, parseEnvelope } from '../envelopes/envelope-parser.js';
import { type EventFields, eventFields } from './event-fields.js';
import { fingerprintHash } from './event-grouping.js';
import { storable } from './event-json.js';

const gunzip = promisify(gunzipCallback);

/** A stored envelope, as the worker reads it. */
export interface StoredEnvelope {
  id: string;
  receivedAt: Date;
  /** received_at as Postgres wrote it (microseconds), for the rows that carry it. */
  receivedAtExact: string;
  organizationId: string;
  projectId: number;
  /** The header's event_id (a uuid), null without one. */
  eventId: string | null;
  /** The decoded envelope, gzip-compressed. */
  body: Buffer;
}

/** One `events` row to write: the event's fields, where it came from, its group's hash. */
export interface EventRow extends EventFields {
  envelope: StoredEnvelope;
  fingerprintHash: string;
}

/** The stored envelope, decompressed and parsed (throws when it cannot be: see the caller). */
export async function readStoredEnvelope(body: Buffer): Promise<ParsedEnvelope> {
  return parseEnvelope(Readable.from([await gunzip(body)]));
}

/**
 * The events of a stored envelope: one per `event` item (errors and messages; transactions
 * and every other item stay only in the raw envelope), each made storable (no NUL, no lone
 * surrogate) before its fingerprint is hashed, so the hash is of what is stored.
 */
export async function eventsOf(envelope: StoredEnvelope): Promise<EventRow[]> {
  const parsed = await readStoredEnvelope(envelope.body);
  const usedIds = new Set<string>();
  const rows: EventRow[] = [];
  for (const item of parsed.items) {
    if (item.type !== 'event' || item.event === undefined) continue;
    const fields = storable(
      eventFields(item.event, envelope.eventId ?? undefined, envelope.receivedAt, usedIds),
    );
    rows.push({ ...fields, envelope, fingerprintHash: fingerprintHash(fields.fingerprint) });
  }
  return rows;
}
