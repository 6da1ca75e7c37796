import type { ApiKeyPrincipal, Principal } from '../../common/principal.js';
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

type KeyLimits = ApiKeyPrincipal['rateLimits'];

function keyWindows(limits: KeyLimits): AppliedWindow[] {
  return limits.flatMap((limit) => {
    if (!isWindow(limit.window)) return [];
    const algorithm: Algorithm =
      limit.algorithm === 'token_bucket' ? 'token_bucket' : 'sliding_window';
    return [toWindow('key', { window: limit.window, limit: limit.limit, algorithm })];
  });
}

const NONE: AppliedWindow[] = [];
/**
 * Windows compiled once per policy object: a key's limits (the same array for as long as the
 * key is cached) and each policy set of a snapshot (replaced on reload), so a request
 * allocates no window objects.
 */
const compiled: Record<PolicySource, WeakMap<object, AppliedWindow[]>> = {
  key: new WeakMap(),
  endpoint: new WeakMap(),
  tier: new WeakMap(),
  global: new WeakMap(),
};

function compile<T extends object>(
  source: PolicySource,
  policies: T | undefined,
  build: (policies: T) => AppliedWindow[],
): AppliedWindow[] {
  if (policies === undefined) return NONE;
  let windows = compiled[source].get(policies);
  if (windows === undefined) {
    windows = build(policies);
    compiled[source].set(policies, windows);
  }
  return windows;
}

const fromSet = (source: PolicySource) => (set: PolicySet) =>
  definitions(set).map((policy) => toWindow(source, policy));
const endpointWindows = fromSet('endpoint');
const tierWindows = fromSet('tier');
const globalWindows = fromSet('global');

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
  const own =
    principal.type === 'api_key' ? compile('key', principal.rateLimits, keyWindows) : NONE;
  const endpoint = policies.endpoints.get(principal.organizationId)?.[route];
  return own.concat(
    compile('endpoint', endpoint, endpointWindows),
    compile('tier', tier === undefined ? undefined : policies.tiers[tier], tierWindows),
    compile('global', policies.global, globalWindows),
  );
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
