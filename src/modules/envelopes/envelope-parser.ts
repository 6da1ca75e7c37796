import type { Readable } from 'node:stream';
import { ByteReader } from './byte-reader.js';
import {
  DEFAULT_ENVELOPE_LIMITS,
  EnvelopeError,
  type EnvelopeLimits,
  malformed,
  tooLarge,
} from './envelope-errors.js';

/** The item types Gatehouse reads; any other type is kept as a raw item. */
export const KNOWN_ITEM_TYPES = [
  'event',
  'transaction',
  'attachment',
  'session',
  'sessions',
  'client_report',
  'check_in',
  'user_feedback',
] as const;
export type KnownItemType = (typeof KNOWN_ITEM_TYPES)[number];

/** Items whose payload is an event: JSON object, at most `maxEventItemBytes`. */
const EVENT_ITEM_TYPES: ReadonlySet<string> = new Set(['event', 'transaction']);
const KNOWN: ReadonlySet<string> = new Set(KNOWN_ITEM_TYPES);

export type JsonObject = Record<string, unknown>;

export interface EnvelopeItem {
  /** The item header as sent (type, length, content_type, filename, attachment_type, ...). */
  header: JsonObject;
  type: string;
  /** False for a type this parser does not know: kept as sent, never an error. */
  known: boolean;
  payload: Buffer;
  /** The parsed payload of an event or transaction item. */
  event?: JsonObject;
}

export interface ParsedEnvelope {
  header: JsonObject;
  /** 32 lowercase hex digits: the header's event_id, else the first event item's. */
  eventId?: string;
  /** The DSN the SDK put in the header, if any (its public key authenticates too). */
  dsn?: string;
  items: EnvelopeItem[];
  /** Decompressed size of the envelope in bytes. */
  size: number;
}

/**
 * `full`: every item's payload is returned. `scan`: the envelope is checked exactly as in
 * `full` (headers, lengths, limits, event JSON), but payloads are not kept: items come back
 * with an empty payload, and only the first event item keeps its parsed `event` (for the
 * event id). Sized payloads are skipped as they stream past, so a valid envelope holding a
 * 100 MB attachment (a few hundred KB gzipped) costs a chunk of memory, not 100 MB: for the
 * ingest path, which stores the envelope's bytes as they were sent.
 */
export type ParseMode = 'full' | 'scan';

const EMPTY = Buffer.alloc(0);

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Reads a Sentry envelope (https://develop.sentry.dev/sdk/data-model/envelopes/) from a byte
 * stream: a header line, then items, each a header line and a payload of exactly `length`
 * bytes when the header has one (then an optional newline), else up to the next newline or
 * the end. Blank lines between items are skipped, as Relay's parser skips whitespace before
 * an item header. Rejects only with EnvelopeError; on rejection the stream is destroyed, so a
 * body over a limit is not read further: give it decodedBody's stream, not the request itself
 * (destroying the request would reset the connection before the 4xx is sent).
 */
export async function parseEnvelope(
  stream: Readable,
  limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS,
  mode: ParseMode = 'full',
): Promise<ParsedEnvelope> {
  const reader = new ByteReader(stream[Symbol.asyncIterator](), limits.maxEnvelopeBytes);
  try {
    return await readEnvelope(reader, limits, mode);
  } catch (error) {
    stream.destroy();
    if (error instanceof EnvelopeError) throw error;
    // The stream itself failed: a corrupt compressed body, a client that went away.
    throw malformed('the body could not be read');
  }
}

async function readEnvelope(
  reader: ByteReader,
  limits: EnvelopeLimits,
  mode: ParseMode,
): Promise<ParsedEnvelope> {
  const headerLine = await reader.readLine(limits.maxHeaderBytes, () =>
    tooLarge('envelope header larger than the limit'),
  );
  if (headerLine === null) throw malformed('empty envelope');
  const header = parseObject(headerLine, 'envelope header');
  const eventId = optionalEventId(header.event_id, 'envelope header');
  if (header.dsn !== undefined && typeof header.dsn !== 'string') {
    throw malformed('envelope header dsn is not a string');
  }

  const items: EnvelopeItem[] = [];
  for (;;) {
    const line = await reader.readLine(limits.maxHeaderBytes, () =>
      tooLarge('item header larger than the limit'),
    );
    if (line === null) break;
    if (isBlank(line)) continue;
    if (items.length === limits.maxItems) throw tooLarge(`more than ${limits.maxItems} items`);
    const item = await readItem(reader, parseObject(line, 'item header'), limits, mode);
    if (mode === 'scan' && item.event !== undefined && items.some((kept) => kept.event)) {
      delete item.event;
    }
    items.push(item);
  }

  const firstEvent = items.find((item) => item.event !== undefined)?.event;
  return {
    header,
    eventId: eventId ?? optionalEventId(firstEvent?.event_id, 'event'),
    dsn: header.dsn,
    items,
    size: reader.bytesRead,
  };
}

async function readItem(
  reader: ByteReader,
  header: JsonObject,
  limits: EnvelopeLimits,
  mode: ParseMode,
): Promise<EnvelopeItem> {
  const { type, length } = header;
  if (typeof type !== 'string' || type === '') throw malformed('item header without a type');
  const isEvent = EVENT_ITEM_TYPES.has(type);
  const max = isEvent ? limits.maxEventItemBytes : limits.maxEnvelopeBytes;
  const overMax = () => tooLarge(`${isEvent ? type + ' item' : 'item'} larger than the limit`);

  let payload: Buffer;
  if (length === undefined || length === null) {
    const line = await reader.readLine(Math.min(max, limits.maxUnsizedItemBytes), overMax);
    payload = stripCarriageReturn(line ?? Buffer.alloc(0));
  } else {
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
      throw malformed('item length is not a non-negative integer');
    }
    if (length > max) throw overMax();
    // Refused before reading: a declared length the envelope limit cannot hold.
    if (reader.position + length > limits.maxEnvelopeBytes) {
      throw tooLarge('envelope larger than the limit');
    }
    if (mode === 'scan' && !isEvent) {
      await reader.skipExact(length);
      payload = EMPTY;
    } else {
      payload = await reader.readExact(length);
    }
    if (!(await reader.skipNewline())) throw malformed('no newline after an item payload');
  }

  const item: EnvelopeItem = { header, type, known: KNOWN.has(type), payload };
  if (isEvent) item.event = parseObject(payload, `${type} item`);
  if (mode === 'scan') item.payload = EMPTY;
  return item;
}

function parseObject(bytes: Buffer, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed(`${what} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw malformed(`${what} is not a JSON object`);
  }
  return value as JsonObject;
}

function optionalEventId(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw malformed(`${where} event_id is not a UUID`);
  }
  return value.replaceAll('-', '').toLowerCase();
}

function isBlank(line: Buffer): boolean {
  return line.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d);
}

/** A payload read up to a newline loses the CR of a CRLF line ending. */
function stripCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}
