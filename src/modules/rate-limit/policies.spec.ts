import { describe, expect, it } from '@jest/globals';
import type { ApiKeyPrincipal } from '../../common/principal.js';
import { windowsFor } from './policies.js';
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

const snapshot = (): PolicySnapshot => ({
  global: {
    minute: { limit: 100, algorithm: 'sliding_window' },
    hour: { limit: 1_000, algorithm: 'sliding_window' },
  },
  tiers: { free: { minute: { limit: 100, algorithm: 'sliding_window' } } },
  endpoints: new Map([
    ['org', { '/api/v1/users': { minute: { limit: 3, algorithm: 'sliding_window' } } }],
  ]),
});

const names = (windows: { source: string; window: string; limit: number }[]) =>
  windows.map((w) => `${w.source}:${w.window}:${w.limit}`);

describe('windowsFor', () => {
  it('lists every window, most specific first, and counts a shadowed sliding window once', () => {
    const plan = windowsFor(
      key([{ window: 'minute', limit: 5, algorithm: 'sliding_window' }]),
      '/api/v1/users',
      snapshot(),
      'free',
    );
    expect(names(plan.all)).toEqual([
      'key:minute:5',
      'endpoint:minute:3',
      'tier:minute:100',
      'global:minute:100',
      'global:hour:1000',
    ]);
    // The endpoint window counts only that route's requests: never merged.
    expect(names(plan.enforced)).toEqual(['key:minute:5', 'endpoint:minute:3', 'global:hour:1000']);
    expect(plan.countedBy).toEqual([0, 1, 0, 0, 2]);
    // Redis state: one log per length for everything the credential does, one per route for endpoints.
    expect(plan.all.map((w) => w.name)).toEqual([
      'log:60000',
      'ep:/api/v1/users:log:60000',
      'log:60000',
      'log:60000',
      'log:3600000',
    ]);
    expect(plan.policyHeader).toBe(
      '"key-minute";q=5;w=60, "endpoint-minute";q=3;w=60, "global-hour";q=1000;w=3600',
    );
  });

  it('keeps the stricter of twins whatever its source, and never merges token buckets', () => {
    const policies = snapshot();
    const plan = windowsFor(
      key([
        { window: 'minute', limit: 500, algorithm: 'sliding_window' },
        { window: 'hour', limit: 50, algorithm: 'token_bucket' },
      ]),
      '/api/v1/projects',
      policies,
      'free',
    );
    expect(names(plan.enforced)).toEqual(['tier:minute:100', 'key:hour:50', 'global:hour:1000']);
    expect(plan.enforced.map((w) => w.name)).toEqual([
      'log:60000',
      'tb:key:3600000',
      'log:3600000',
    ]);
    expect(plan.countedBy).toEqual([0, 1, 0, 0, 2]);
    // Compiled once per combination of policy objects; a reloaded snapshot compiles anew.
    const principal = key([{ window: 'minute', limit: 5, algorithm: 'sliding_window' }]);
    const first = windowsFor(principal, '/api/v1/projects', policies, 'free');
    expect(windowsFor(principal, '/api/v1/projects', policies, 'free')).toBe(first);
    expect(windowsFor(principal, '/api/v1/projects', snapshot(), 'free')).not.toBe(first);
  });
});
