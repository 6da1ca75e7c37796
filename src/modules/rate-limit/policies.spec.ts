import { describe, expect, it } from '@jest/globals';
import type { ApiKeyPrincipal } from '../../common/principal.js';
import type { OrganizationLimits } from './organization-limits-store.js';
import { keyLimitsAboveCeiling, organizationSet, windowsFor } from './policies.js';
import type { PolicySnapshot } from './policy-store.js';

const key = (rateLimits: ApiKeyPrincipal['rateLimits']): ApiKeyPrincipal => ({
  type: 'api_key',
  keyId: 'k',
  name: 'k',
  organizationId: 'org',
  projectId: null,
  environment: 'live',
  permissions: new Set(),
  rateLimits,
});

const sliding = (limit: number) => ({ limit, algorithm: 'sliding_window' as const });

const snapshot = (): PolicySnapshot => ({
  global: { minute: sliding(100), hour: sliding(1_000) },
  tiers: {
    free: { minute: sliding(100), hour: sliding(1_000) },
    professional: { minute: sliding(1_000), hour: sliding(20_000) },
    enterprise: {},
  },
});

const organization = (tier: string, own: OrganizationLimits['own'] = null): OrganizationLimits => ({
  tier,
  own,
  endpoints: { '/api/v1/users': { minute: sliding(3) } },
});

const names = (windows: { source: string; window: string; limit: number }[]) =>
  windows.map((w) => `${w.source}:${w.window}:${w.limit}`);

describe('organizationSet', () => {
  it("takes the organization's own set, else its tier's, else the global one, whole", () => {
    const policies = snapshot();
    expect(organizationSet(policies, organization('professional')).source).toBe('tier');
    expect(
      names(organizationSet(policies, organization('professional', { day: sliding(9) })).windows),
    ).toEqual(['organization:day:9']);
    // enterprise defines no window of its own: the global set applies.
    expect(names(organizationSet(policies, organization('enterprise')).windows)).toEqual([
      'global:minute:100',
      'global:hour:1000',
    ]);
    expect(organizationSet(policies, organization('unknown')).source).toBe('global');
    expect(organizationSet(policies, undefined).source).toBe('global');
  });
});

describe('windowsFor', () => {
  it('lists every window, most specific first, and counts a shadowed sliding window once', () => {
    const plan = windowsFor(
      key([{ window: 'minute', limit: 5, algorithm: 'sliding_window' }]),
      '/api/v1/users',
      snapshot(),
      organization('free'),
    );
    expect(names(plan.all)).toEqual([
      'key:minute:5',
      'endpoint:minute:3',
      'tier:minute:100',
      'tier:hour:1000',
    ]);
    // The endpoint window counts only that route's requests: never merged.
    expect(names(plan.enforced)).toEqual(['key:minute:5', 'endpoint:minute:3', 'tier:hour:1000']);
    expect(plan.countedBy).toEqual([0, 1, 0, 2]);
    // Redis state: one log per length for everything the credential does, one per route for endpoints.
    expect(plan.all.map((w) => w.name)).toEqual([
      'log:60000',
      'ep:/api/v1/users:log:60000',
      'log:60000',
      'log:3600000',
    ]);
    expect(plan.policyHeader).toBe(
      '"key-minute";q=5;w=60, "endpoint-minute";q=3;w=60, "tier-hour";q=1000;w=3600',
    );
  });

  it('a higher tier raises the limits: no lower set applies beside the chosen one', () => {
    const plan = windowsFor(key([]), '/api/v1/projects', snapshot(), organization('professional'));
    expect(names(plan.enforced)).toEqual(['tier:minute:1000', 'tier:hour:20000']);
    // The minute keeps its count across the change; 20,000 an hour is counted in buckets.
    expect(plan.enforced.map((w) => w.name)).toEqual(['log:60000', 'buckets:3600000']);
  });

  it('keeps the stricter of twins whatever its source, and never merges token buckets', () => {
    const policies = snapshot();
    const free = organization('free');
    const plan = windowsFor(
      key([
        { window: 'minute', limit: 50, algorithm: 'sliding_window' },
        { window: 'hour', limit: 50, algorithm: 'token_bucket' },
      ]),
      '/api/v1/projects',
      policies,
      organization('free', { minute: sliding(20), hour: sliding(900) }),
    );
    expect(names(plan.enforced)).toEqual([
      'organization:minute:20',
      'key:hour:50',
      'organization:hour:900',
    ]);
    expect(plan.enforced.map((w) => w.name)).toEqual([
      'log:60000',
      'tb:key:3600000',
      'log:3600000',
    ]);
    expect(plan.countedBy).toEqual([0, 1, 0, 2]);
    // Compiled once per combination of policy objects; a reloaded snapshot compiles anew.
    const principal = key([{ window: 'minute', limit: 5, algorithm: 'sliding_window' }]);
    const first = windowsFor(principal, '/api/v1/projects', policies, free);
    expect(windowsFor(principal, '/api/v1/projects', policies, free)).toBe(first);
    expect(windowsFor(principal, '/api/v1/projects', snapshot(), free)).not.toBe(first);
  });
});

describe('keyLimitsAboveCeiling', () => {
  it("names the organization's window a looser key window exceeds", () => {
    const tier = organizationSet(snapshot(), organization('free'));
    expect(
      keyLimitsAboveCeiling(
        [
          { window: 'minute', limit: 100 },
          { window: 'hour', limit: 1_001 },
          { window: 'day', limit: 1_000_000 },
        ],
        tier,
      ),
    ).toEqual([
      {
        field: 'rate_limits.1.limit',
        message:
          "a key's hour limit may not exceed its organization's 1000 per hour (the tier set)",
      },
    ]);
  });
});
