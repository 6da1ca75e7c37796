import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../envelopes/envelope-parser.js';
import { groupingOf } from './event-grouping.js';
import { MESSAGE_MAX_LENGTH, asObject, text } from './event-json.js';

/** Sentry's levels; anything else an SDK sends is mapped onto them (`warn` -> `warning`). */
export const EVENT_LEVELS = ['fatal', 'error', 'warning', 'info', 'debug'] as const;
export type EventLevel = (typeof EVENT_LEVELS)[number];

const LEVEL_ALIASES: Record<string, EventLevel> = {
  warn: 'warning',
  critical: 'fatal',
  log: 'info',
};
/** The columns of one `events` row that come from the event item itself. */
export interface EventFields {
  id: string;
  timestamp: Date;
  level: EventLevel;
  message: string | null;
  exceptionType: string | null;
  exceptionValue: string | null;
  release: string | null;
  environment: string | null;
  platform: string | null;
  tags: Record<string, string>;
  user: JsonObject | null;
  /** The grouping parts (the SDK's fingerprint with `{{ default }}` expanded, else ours). */
  fingerprint: string[];
  /** The title if this event opens one: exception "type: value", else the message. */
  title: string;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** Postgres timestamptz accepts these years; an SDK's clock outside them is not believed. */
const MIN_TIME_MS = Date.UTC(1970, 0, 1);
const MAX_TIME_MS = Date.UTC(9999, 11, 31);

/** 32 hex digits (Sentry's form) or a dashed uuid, as a dashed lowercase uuid; else undefined. */
export function asUuid(value: unknown): string | undefined {
  if (typeof value !== 'string' || !UUID.test(value)) return undefined;
  const hex = value.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `timestamp`: a number of seconds or an RFC 3339 string; anything else is `fallback`. */
export function eventTimestamp(value: unknown, fallback: Date): Date {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string')
    ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  return Number.isFinite(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS ? new Date(ms) : fallback;
}

export function eventLevel(value: unknown): EventLevel {
  if (typeof value !== 'string') return 'error';
  const level = value.toLowerCase();
  if ((EVENT_LEVELS as readonly string[]).includes(level)) return level as EventLevel;
  return LEVEL_ALIASES[level] ?? 'error';
}

/**
 * The message: `message` (a string, or an object like logentry in some SDKs), else
 * `logentry.formatted`, else `logentry.message`.
 */
export function eventMessage(event: JsonObject): string | null {
  const message = event.message;
  if (typeof message === 'string' && message !== '') return text(message, MESSAGE_MAX_LENGTH);
  for (const entry of [asObject(message), asObject(event.logentry)]) {
    const found =
      text(entry?.formatted, MESSAGE_MAX_LENGTH) ?? text(entry?.message, MESSAGE_MAX_LENGTH);
    if (found !== null) return found;
  }
  return null;
}

/** `exception.values` (or the older bare list): Sentry's convention puts the outermost last. */
export function lastException(event: JsonObject): JsonObject | undefined {
  const exception = event.exception;
  const values = Array.isArray(exception) ? exception : asObject(exception)?.values;
  if (!Array.isArray(values)) return undefined;
  for (let i = values.length - 1; i >= 0; i -= 1) {
    const value = asObject(values[i]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** `tags` as an object or a list of `[key, value]` pairs, as `{key: "value"}`. */
export function eventTags(value: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  const add = (key: unknown, tagValue: unknown) => {
    const name = text(typeof key === 'string' ? key : undefined);
    if (name === null || tagValue === undefined || tagValue === null) return;
    const shown = typeof tagValue === 'string' ? tagValue : JSON.stringify(tagValue);
    tags[name] = text(shown) ?? '';
  };
  if (Array.isArray(value)) {
    for (const pair of value) if (Array.isArray(pair) && pair.length === 2) add(pair[0], pair[1]);
  } else {
    const object = asObject(value);
    if (object !== undefined)
      for (const [key, tagValue] of Object.entries(object)) add(key, tagValue);
  }
  return tags;
}

/**
 * The fields of an `event` item's payload. `fallbackId` is the envelope header's event_id
 * (used once per envelope: `usedIds` holds the ids already given to its events), then a new
 * uuid; `receivedAt` stands in for a missing or unbelievable timestamp.
 */
export function eventFields(
  event: JsonObject,
  fallbackId: string | undefined,
  receivedAt: Date,
  usedIds: Set<string>,
): EventFields {
  let id = asUuid(event.event_id) ?? fallbackId;
  if (id === undefined || usedIds.has(id)) id = randomUUID();
  usedIds.add(id);
  const exception = lastException(event);
  const message = eventMessage(event);
  const exceptionType = text(exception?.type);
  const exceptionValue = text(exception?.value, MESSAGE_MAX_LENGTH);
  const { fingerprint, title } = groupingOf(event, exception, message);
  return {
    id,
    timestamp: eventTimestamp(event.timestamp, receivedAt),
    level: eventLevel(event.level),
    message,
    exceptionType,
    exceptionValue,
    release: text(event.release),
    environment: text(event.environment),
    platform: text(event.platform),
    tags: eventTags(event.tags),
    user: asObject(event.user) ?? null,
    fingerprint,
    title,
  };
}
