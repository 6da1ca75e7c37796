import type { Principal } from '../../common/principal.js';
import type { Algorithm, WindowPolicy } from './limiter.js';

export const WINDOW_MS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
export type WindowName = keyof typeof WINDOW_MS;

interface PolicyDefinition {
  window: WindowName;
  limit: number;
  algorithm: Algorithm;
}

/** API.md's defaults: every key (and user) at most 100 a minute and 1,000 an hour. */
export const GLOBAL_DEFAULTS: PolicyDefinition[] = [
  { window: 'minute', limit: 100, algorithm: 'sliding_window' },
  { window: 'hour', limit: 1_000, algorithm: 'sliding_window' },
];

/** Per organization tier; enterprise is custom (no tier window beyond the global ones). */
export const TIER_DEFAULTS: Record<string, PolicyDefinition[]> = {
  free: [{ window: 'minute', limit: 100, algorithm: 'sliding_window' }],
  standard: [{ window: 'minute', limit: 100, algorithm: 'sliding_window' }],
  professional: [{ window: 'minute', limit: 1_000, algorithm: 'sliding_window' }],
  enterprise: [],
};

function toWindow(source: string, policy: PolicyDefinition): WindowPolicy {
  return {
    // The limit is part of the name: two policies never share, or mistype, one Redis key.
    name: `${source}:${policy.window}:${policy.algorithm}:${policy.limit}`,
    algorithm: policy.algorithm,
    windowMs: WINDOW_MS[policy.window],
    limit: policy.limit,
  };
}

function isWindow(value: string): value is WindowName {
  return value in WINDOW_MS;
}

/**
 * Every window that applies to the principal now, most specific first: the key's own,
 * its organization's tier, then the global defaults. All of them are enforced.
 * Users (bearer tokens) get the same policies minus key limits.
 */
export function windowsFor(principal: Principal): WindowPolicy[] {
  const windows: WindowPolicy[] = [];
  if (principal.type === 'api_key') {
    for (const limit of principal.limits.rateLimits) {
      if (!isWindow(limit.window)) continue;
      const algorithm: Algorithm =
        limit.algorithm === 'token_bucket' ? 'token_bucket' : 'sliding_window';
      windows.push(toWindow('key', { window: limit.window, limit: limit.limit, algorithm }));
    }
    for (const policy of TIER_DEFAULTS[principal.limits.tier] ?? [])
      windows.push(toWindow('tier', policy));
  }
  for (const policy of GLOBAL_DEFAULTS) windows.push(toWindow('global', policy));
  return windows;
}

export function subjectOf(principal: Principal): string {
  return principal.type === 'api_key' ? principal.keyId : `user:${principal.userId}`;
}
