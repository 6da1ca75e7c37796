import type { Principal } from '../../common/principal.js';
import type { Algorithm, LimiterSubject, WindowPolicy } from './limiter.js';
import type { PolicySnapshot } from './policy-store.js';
import type { PolicySet } from './rate-limit-setting.entity.js';

export const WINDOW_MS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
export type WindowName = keyof typeof WINDOW_MS;

export type PolicySource = 'key' | 'endpoint' | 'tier' | 'global';

/** A window with where it came from, for headers, explain and rate-limit events. */
export interface AppliedWindow extends WindowPolicy {
  source: PolicySource;
  window: WindowName;
}

interface PolicyDefinition {
  window: WindowName;
  limit: number;
  algorithm: Algorithm;
}

/** API.md's defaults: every key (and user) at most 100 a minute and 1,000 an hour. */
export const GLOBAL_DEFAULTS: PolicySet = {
  minute: { limit: 100, algorithm: 'sliding_window' },
  hour: { limit: 1_000, algorithm: 'sliding_window' },
};

/** Per organization tier; enterprise is custom (no tier window beyond the global ones). */
export const TIER_DEFAULTS: Record<string, PolicySet> = {
  free: { minute: { limit: 100, algorithm: 'sliding_window' } },
  standard: { minute: { limit: 100, algorithm: 'sliding_window' } },
  professional: { minute: { limit: 1_000, algorithm: 'sliding_window' } },
  enterprise: {},
};

function definitions(set: PolicySet | undefined): PolicyDefinition[] {
  return Object.entries(set ?? {}).flatMap(([window, policy]) =>
    isWindow(window) && policy !== undefined
      ? [{ window, limit: policy.limit, algorithm: policy.algorithm }]
      : [],
  );
}

function toWindow(source: PolicySource, policy: PolicyDefinition): AppliedWindow {
  return {
    source,
    window: policy.window,
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
 * Every window that applies to the principal on this route now, most specific first: the
 * key's own, its organization's override for the endpoint, its tier, then the global
 * policies. All of them are enforced. Users (bearer tokens) get the same minus key limits.
 */
export function windowsFor(
  principal: Principal,
  route: string,
  policies: PolicySnapshot,
  tier: string | undefined,
): AppliedWindow[] {
  const windows: AppliedWindow[] = [];
  if (principal.type === 'api_key') {
    for (const limit of principal.rateLimits) {
      if (!isWindow(limit.window)) continue;
      const algorithm: Algorithm =
        limit.algorithm === 'token_bucket' ? 'token_bucket' : 'sliding_window';
      windows.push(toWindow('key', { window: limit.window, limit: limit.limit, algorithm }));
    }
  }
  const endpoint = policies.endpoints.get(principal.organizationId)?.[route];
  for (const policy of definitions(endpoint)) windows.push(toWindow('endpoint', policy));
  if (tier !== undefined)
    for (const policy of definitions(policies.tiers[tier])) windows.push(toWindow('tier', policy));
  for (const policy of definitions(policies.global)) windows.push(toWindow('global', policy));
  return windows;
}

/** Where an API key's counters live: see LimiterRequest for why keys are tagged by organization. */
export function keySubject(organizationId: string, keyId: string): LimiterSubject {
  return { tag: organizationId, subject: `key:${keyId}` };
}

export function limiterSubject(principal: Principal): LimiterSubject {
  return principal.type === 'api_key'
    ? keySubject(principal.organizationId, principal.keyId)
    : { tag: `user:${principal.userId}`, subject: 'user' };
}
