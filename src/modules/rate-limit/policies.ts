import type { ApiKeyPrincipal, Principal } from '../../common/principal.js';
import {
  type Algorithm,
  EXACT_LIMIT_MAX,
  type LimiterSubject,
  type WindowPolicy,
} from './limiter.js';
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

/**
 * The Redis state a window lives in, within its credential's. The key's, the tier's and the
 * global sliding windows count the same requests, so they share one state per length: a
 * policy change keeps the history, and a user in two organizations has one count. An
 * endpoint's window counts only its route's requests; each token bucket is its own. The kind
 * of storage (log, buckets, token bucket) is in the name, so two never share, or mistype, a key.
 */
function stateName(source: PolicySource, policy: PolicyDefinition, route: string): string {
  const storage =
    policy.algorithm === 'token_bucket'
      ? `tb:${source}`
      : policy.limit <= EXACT_LIMIT_MAX
        ? 'log'
        : 'buckets';
  const scope = source === 'endpoint' ? `ep:${route}:` : '';
  return `${scope}${storage}:${WINDOW_MS[policy.window]}`;
}

function toWindow(source: PolicySource, policy: PolicyDefinition, route = ''): AppliedWindow {
  return {
    source,
    window: policy.window,
    name: stateName(source, policy, route),
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

/** What applies to one combination of key limits, endpoint, tier and global policies. */
export interface WindowPlan {
  /** Every applicable window, most specific first: the key's, the endpoint's, the tier's, the global ones. */
  all: AppliedWindow[];
  /**
   * The windows counted in Redis. The key's, the tier's and the global windows all count
   * every request of the credential, so of two sliding windows of the same length there the
   * stricter one already enforces the other, which is not counted twice.
   */
  enforced: AppliedWindow[];
  /** For each window of `all`, the index in `enforced` of the window that counts its requests. */
  countedBy: number[];
  /** The IETF RateLimit-Policy field for the enforced windows. */
  policyHeader: string;
}

function policyName(window: AppliedWindow): string {
  return `${window.source}-${window.window}`;
}

function plan(all: AppliedWindow[]): WindowPlan {
  const enforced: AppliedWindow[] = [];
  const countedBy: number[] = [];
  const countsEveryRequest = (window: AppliedWindow) => window.source !== 'endpoint';
  for (const window of all) {
    const twin =
      window.algorithm === 'sliding_window' && countsEveryRequest(window)
        ? enforced.findIndex(
            (other) =>
              other.algorithm === 'sliding_window' &&
              countsEveryRequest(other) &&
              other.windowMs === window.windowMs,
          )
        : -1;
    if (twin === -1) {
      countedBy.push(enforced.length);
      enforced.push(window);
      continue;
    }
    countedBy.push(twin);
    const current = enforced[twin];
    if (current !== undefined && window.limit < current.limit) enforced[twin] = window;
  }
  return {
    all,
    enforced,
    countedBy,
    policyHeader: enforced
      .map((w) => `"${policyName(w)}";q=${w.limit};w=${w.windowMs / 1000}`)
      .join(', '),
  };
}

const NONE: AppliedWindow[] = [];
const NO_KEY: KeyLimits = [];
const NO_SET: PolicySet = {};

/**
 * Windows compiled once per policy object: a key's limits (the same array for as long as the
 * key is cached) and each policy set of a snapshot (replaced on reload).
 */
const compiled: Record<PolicySource, WeakMap<object, AppliedWindow[]>> = {
  key: new WeakMap(),
  endpoint: new WeakMap(),
  tier: new WeakMap(),
  global: new WeakMap(),
};

function compile<T extends object>(
  source: PolicySource,
  policies: T,
  build: (policies: T) => AppliedWindow[],
): AppliedWindow[] {
  let windows = compiled[source].get(policies);
  if (windows === undefined) {
    windows = build(policies);
    compiled[source].set(policies, windows);
  }
  return windows;
}

const fromSet = (source: PolicySource) => (set: PolicySet) =>
  definitions(set).map((policy) => toWindow(source, policy));
const tierWindows = fromSet('tier');
const globalWindows = fromSet('global');

/** Plans by key limits -> endpoint set -> tier set -> global set, so a request builds nothing. */
const plans = new WeakMap<object, WeakMap<object, WeakMap<object, WeakMap<object, WindowPlan>>>>();

function child<V>(map: WeakMap<object, V>, key: object, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/**
 * Every window that applies to the principal on this route now, most specific first: the
 * key's own, its organization's override for the endpoint, its tier, then the global
 * policies, and which of them are counted (see WindowPlan). Users (bearer tokens) get the
 * same minus key limits. Compiled once per combination of policy objects.
 */
export function windowsFor(
  principal: Principal,
  route: string,
  policies: PolicySnapshot,
  tier: string | undefined,
): WindowPlan {
  const own = principal.type === 'api_key' ? principal.rateLimits : NO_KEY;
  const endpoint = policies.endpoints.get(principal.organizationId)?.[route] ?? NO_SET;
  const tierSet = (tier === undefined ? undefined : policies.tiers[tier]) ?? NO_SET;
  const byEndpoint = child(plans, own, () => new WeakMap());
  const byTier = child(byEndpoint, endpoint, () => new WeakMap());
  const byGlobal = child(byTier, tierSet, () => new WeakMap());
  return child(byGlobal, policies.global, () =>
    plan(
      (own === NO_KEY ? NONE : compile('key', own, keyWindows)).concat(
        compile('endpoint', endpoint, (set) =>
          definitions(set).map((policy) => toWindow('endpoint', policy, route)),
        ),
        compile('tier', tierSet, tierWindows),
        compile('global', policies.global, globalWindows),
      ),
    ),
  );
}

/** Where an API key's counters live: see LimiterRequest for why keys are tagged by organization. */
export function keySubject(organizationId: string, keyId: string): LimiterSubject {
  return { tag: organizationId, subject: `key:${keyId}` };
}

/** A key's principal lives as long as its cache entry: its subject is built once too. */
const subjects = new WeakMap<Principal, LimiterSubject>();

export function limiterSubject(principal: Principal): LimiterSubject {
  if (principal.type === 'user') return { tag: `user:${principal.userId}`, subject: 'user' };
  let subject = subjects.get(principal);
  if (subject === undefined) {
    subject = keySubject(principal.organizationId, principal.keyId);
    subjects.set(principal, subject);
  }
  return subject;
}
