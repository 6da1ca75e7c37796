import type { JsonObject } from '../envelopes/envelope-parser.js';

/** Longest message, exception value and title kept (the full text stays in the envelope). */
export const MESSAGE_MAX_LENGTH = 8192;
/** Longest release, environment, platform, exception type, tag key or value kept. */
export const SHORT_TEXT_MAX_LENGTH = 256;

export function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** A non-empty string cut to `max` UTF-16 units (never inside a surrogate pair), else null. */
export function text(value: unknown, max = SHORT_TEXT_MAX_LENGTH): string | null {
  if (typeof value !== 'string' || value === '') return null;
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * `value` with every NUL and lone UTF-16 surrogate (in strings and keys, at any depth)
 * replaced by U+FFFD: Postgres text and jsonb refuse both, and an SDK may send either.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map((item: unknown) => storable(item)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[storable(key)] = storable(item);
    return out as T;
  }
  return value;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what is replaced
const UNSTORABLE = /[\u0000\p{Cs}]/gu;
