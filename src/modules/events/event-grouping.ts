import { createHash } from 'node:crypto';
import type { JsonObject } from '../envelopes/envelope-parser.js';
import { MESSAGE_MAX_LENGTH, SHORT_TEXT_MAX_LENGTH, asObject, text } from './event-json.js';

/** The frames nearest the crash that name a group (Sentry's frames are oldest first). */
export const GROUPING_FRAMES = 5;
/** The most parts an SDK's fingerprint may have; more are ignored. */
const FINGERPRINT_MAX_PARTS = 32;
/** The most parts a stored fingerprint has: each SDK part may be `{{ default }}` (type + frames). */
export const FINGERPRINT_MAX_ITEMS = FINGERPRINT_MAX_PARTS * (GROUPING_FRAMES + 1);
const DEFAULT_PART = /^\{\{\s*default\s*\}\}$/;
const NO_MESSAGE = '(no message)';

export interface Grouping {
  fingerprint: string[];
  title: string;
}

/** One frame as a grouping part: module (else file name) and function; never line numbers. */
function framePart(frame: JsonObject): string | null {
  const where = text(frame.module) ?? text(frame.filename) ?? text(frame.abs_path);
  const fn = text(frame.function);
  return where === null && fn === null ? null : `${where ?? '?'}:${fn ?? '?'}`;
}

/** The top frames of an exception's stack trace, in-app frames preferred. */
export function topFrames(exception: JsonObject | undefined): string[] {
  const trace = asObject(exception?.stacktrace) ?? asObject(exception?.raw_stacktrace);
  const frames = (Array.isArray(trace?.frames) ? trace.frames : [])
    .map(asObject)
    .filter((frame): frame is JsonObject => frame !== undefined);
  const inApp = frames.filter((frame) => frame.in_app === true);
  const chosen = (inApp.length > 0 ? inApp : frames).slice(-GROUPING_FRAMES);
  return chosen.map(framePart).filter((part): part is string => part !== null);
}

/**
 * The default grouping: the exception's type and top frames (its type and value when it has
 * no frames), else the message's template (logentry.message, before its params are filled
 * in), else the message.
 */
export function defaultGrouping(
  event: JsonObject,
  exception: JsonObject | undefined,
  message: string | null,
): string[] {
  if (exception !== undefined) {
    const type = text(exception.type) ?? 'Error';
    const frames = topFrames(exception);
    if (frames.length > 0) return [type, ...frames];
    return [type, text(exception.value, MESSAGE_MAX_LENGTH) ?? ''];
  }
  const template = text(asObject(event.logentry)?.message, MESSAGE_MAX_LENGTH);
  return [template ?? message ?? NO_MESSAGE];
}

/** The SDK's `fingerprint` (strings, `{{ default }}` expanded), else the default grouping. */
export function groupingOf(
  event: JsonObject,
  exception: JsonObject | undefined,
  message: string | null,
): Grouping {
  const fallback = () => defaultGrouping(event, exception, message);
  let fingerprint: string[] = [];
  if (Array.isArray(event.fingerprint)) {
    for (const part of event.fingerprint.slice(0, FINGERPRINT_MAX_PARTS)) {
      if (part === null || typeof part === 'object') continue;
      const value = String(part);
      if (DEFAULT_PART.test(value)) fingerprint.push(...fallback());
      else fingerprint.push(text(value, SHORT_TEXT_MAX_LENGTH) ?? '');
    }
  }
  if (fingerprint.length === 0) fingerprint = fallback();
  const type = text(exception?.type);
  const value = text(exception?.value, MESSAGE_MAX_LENGTH);
  const described = type === null ? value : value === null ? type : `${type}: ${value}`;
  const title = text(described ?? message ?? NO_MESSAGE, MESSAGE_MAX_LENGTH) ?? NO_MESSAGE;
  return { fingerprint, title };
}

/** event_issues.fingerprint_hash: hex SHA-256 of the parts (as JSON, so parts never run together). */
export function fingerprintHash(fingerprint: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex');
}
