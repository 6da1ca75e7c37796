import type { FieldError } from '../../common/app-error.js';
import type { PolicySet } from './rate-limit-setting.entity.js';

export const WINDOW_NAMES = ['second', 'minute', 'hour', 'day'] as const;
export type WindowName = (typeof WINDOW_NAMES)[number];
export const LIMIT_MAX = 1_000_000_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads a `{window: {limit, algorithm?}}` object from a request body, collecting every
 * problem under `field` (nulls and wrong types included: never a TypeError).
 */
export function parsePolicySet(value: unknown, field: string, errors: FieldError[]): PolicySet {
  const set: PolicySet = {};
  if (!isRecord(value)) {
    errors.push({ field, message: `${field} must be an object of window -> {limit, algorithm}` });
    return set;
  }
  for (const [window, policy] of Object.entries(value)) {
    const at = `${field}.${window}`;
    if (!(WINDOW_NAMES as readonly string[]).includes(window)) {
      errors.push({ field: at, message: 'window must be second, minute, hour or day' });
      continue;
    }
    if (!isRecord(policy)) {
      errors.push({ field: at, message: `${at} must be an object {limit, algorithm?}` });
      continue;
    }
    const { limit, algorithm = 'sliding_window', ...rest } = policy;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > LIMIT_MAX) {
      errors.push({
        field: `${at}.limit`,
        message: `limit must be a whole number from 1 to ${LIMIT_MAX}`,
      });
    }
    if (algorithm !== 'sliding_window' && algorithm !== 'token_bucket') {
      errors.push({
        field: `${at}.algorithm`,
        message: 'algorithm must be sliding_window or token_bucket',
      });
    }
    if (Object.keys(rest).length > 0)
      errors.push({ field: at, message: `unknown fields: ${Object.keys(rest).join(', ')}` });
    set[window as WindowName] = {
      limit: limit as number,
      algorithm: algorithm as 'sliding_window' | 'token_bucket',
    };
  }
  return set;
}

/** The windows of `set` in a fixed order (second to day), for messages and checks. */
export function windowsOf(set: PolicySet): WindowName[] {
  return WINDOW_NAMES.filter((window) => set[window] !== undefined);
}
