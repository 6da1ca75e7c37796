import type { ApiKeyPrincipal, Principal } from '../../common/principal.js';
import {
  type Algorithm,
  EXACT_LIMIT_MAX,
  keySubject,
  type LimiterSubject,
  type WindowPolicy,
} from './limiter.js';
import type { FieldError } from '../../common/app-error.js';
import type { OrganizationLimits } from './organization-limits-store.js';
import type { PolicySnapshot } from './policy-store.js';
import { WINDOW_NAMES } from './policy-set.js';
import type { PolicySet } from './rate-limit-setting.entity.js';

export const WINDOW_MS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
export type WindowName = keyof typeof WINDOW_MS;

export type PolicySource = 'key' | 'endpoint' | 'organization' | 'tier' | 'global';

/** Where an organization's windows come from: exactly one of these sets applies. */
export type OrganizationSource = 'organization' | 'tier' | 'global';

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

const sliding = (limit: number) => ({ limit, algorithm: 'sliding_window' as const });

/**
 * API.md's defaults, used for a scope that has no row in rate_limit_settings (migration
 * 1764300000000 seeds the same values as rows): every credential at most 100 a minute and
 * 1,000 an hour; professional 1,000 and 20,000; enterprise none of its own, so the global
 * set until a platform administrator gives the organization its own.
 */
export const GLOBAL_DEFAULTS: PolicySet = { minute: sliding(100), hour: sliding(1_000) };

export const TIER_DEFAULTS: Record<string, PolicySet> = {
  free: { minute: sliding(100), hour: sliding(1_000) },
  standard: { minute: sliding(100), hour: sliding(1_000) },
  professional: { minute: sliding(1_000), hour: sliding(20_000) },
  enterprise: {},
};

/** A set's windows, shortest first (jsonb keeps keys in its own order, not the sender's). */
function definitions(set: PolicySet | undefined): PolicyDefinition[] {
  return WINDOW_NAMES.flatMap((window) => {
    const policy = set?.[window];
    return policy === undefined
      ? []
      : [{ window, limit: policy.limit, algorithm: policy.algorithm }];
  });
}

/**
 * The Redis state a window lives in, within its credential's. The key's and the
 * organization's sliding windows (whichever set they come from) count the same requests, so
 * they share one state per length: a policy or plan change keeps the history, and a user in
 * two organizations has one count. An
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

/** What applies to one combination of key limits, endpoint override and organization set. */
export interface WindowPlan {
  /** Every applicable window, most specific first: the key's, the endpoint's, the organization's set. */
  all: AppliedWindow[];
  /**
   * The windows counted in Redis. The key's and the organization's windows both count every
   * request of the credential, so of two sliding windows of the same length there the
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
 * key is cached) and each endpoint override (replaced on reload); organization sets are
 * compiled in chosen().
 */
const compiled: Record<'key' | 'endpoint', WeakMap<object, AppliedWindow[]>> = {
  key: new WeakMap(),
  endpoint: new WeakMap(),
};

function compile<T extends object>(
  source: 'key' | 'endpoint',
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
const SET_WINDOWS: Record<OrganizationSource, (set: PolicySet) => AppliedWindow[]> = {
  organization: fromSet('organization'),
  tier: fromSet('tier'),
  global: fromSet('global'),
};

/** The one set an organization's windows come from, and its compiled windows. */
export interface OrganizationSet {
  source: OrganizationSource;
  set: PolicySet;
  windows: AppliedWindow[];
}

/** One OrganizationSet per set object, so a request allocates nothing to pick it. */
const chosenSets: Record<OrganizationSource, WeakMap<PolicySet, OrganizationSet>> = {
  organization: new WeakMap(),
  tier: new WeakMap(),
  global: new WeakMap(),
};

function chosen(source: OrganizationSource, set: PolicySet): OrganizationSet {
  let found = chosenSets[source].get(set);
  if (found === undefined) {
    found = { source, set, windows: SET_WINDOWS[source](set) };
    chosenSets[source].set(set, found);
  }
  return found;
}

/**
 * The organization's own set if it has one, else its tier's if that defines any window, else
 * the global set: the chosen set replaces the others whole (API.md, Rate limits).
 */
export function organizationSet(
  policies: PolicySnapshot,
  organization: OrganizationLimits | undefined,
): OrganizationSet {
  if (organization !== undefined && organization.own !== null)
    return chosen('organization', organization.own);
  const tierSet = organization === undefined ? undefined : policies.tiers[organization.tier];
  if (tierSet !== undefined) {
    const tier = chosen('tier', tierSet);
    if (tier.windows.length > 0) return tier;
  }
  return chosen('global', policies.global);
}

/** Plans by key limits -> endpoint set -> organization set, so a request builds nothing. */
const plans = new WeakMap<object, WeakMap<object, WeakMap<object, WindowPlan>>>();

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
 * key's own, its organization's override for the endpoint, then the organization's set (its
 * own, its tier's or the global one), and which of them are counted (see WindowPlan). Users
 * (bearer tokens) get the same minus key limits. Compiled once per combination of policy
 * objects.
 */
export function windowsFor(
  principal: Principal,
  route: string,
  policies: PolicySnapshot,
  organization: OrganizationLimits | undefined,
): WindowPlan {
  const own = principal.type === 'api_key' ? principal.rateLimits : NO_KEY;
  const endpoint = organization?.endpoints[route] ?? NO_SET;
  const { set, windows } = organizationSet(policies, organization);
  const byEndpoint = child(plans, own, () => new WeakMap());
  const bySet = child(byEndpoint, endpoint, () => new WeakMap());
  return child(bySet, set, () =>
    plan(
      (own === NO_KEY ? NONE : compile('key', own, keyWindows)).concat(
        compile('endpoint', endpoint, (policies) =>
          definitions(policies).map((policy) => toWindow('endpoint', policy, route)),
        ),
        windows,
      ),
    ),
  );
}

/**
 * A key's windows may only be stricter than its organization's window of the same length:
 * one error per looser window, naming the ceiling. A window length the organization does not
 * limit has no ceiling (the organization's other windows still apply).
 */
export function keyLimitsAboveCeiling(
  limits: readonly { window: string; limit: number }[],
  organization: OrganizationSet,
  field = 'rate_limits',
): FieldError[] {
  const errors: FieldError[] = [];
  limits.forEach((limit, i) => {
    if (!isWindow(limit.window)) return;
    const ceiling = organization.set[limit.window];
    if (ceiling === undefined || limit.limit <= ceiling.limit) return;
    const from =
      organization.source === 'organization'
        ? "the organization's own set"
        : `the ${organization.source} set`;
    errors.push({
      field: `${field}.${i}.limit`,
      message: `a key's ${limit.window} limit may not exceed its organization's ${ceiling.limit} per ${limit.window} (${from})`,
    });
  });
  return errors;
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
