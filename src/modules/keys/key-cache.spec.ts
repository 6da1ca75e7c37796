import { describe, expect, it } from '@jest/globals';
import type { RedisBus } from '../../redis/redis-bus.js';
import { KeyCache } from './key-cache.js';
import { IpAllowlist } from './ip-allowlist.js';

const published: string[] = [];
const fakeBus = {
  publish: (_channel: string, id: string) => Promise.resolve(void published.push(id)),
} as unknown as RedisBus;

function entry(id: string) {
  return {
    id,
    name: 'k',
    organizationId: 'o',
    projectId: null,
    environment: 'live' as const,
    permissions: new Set<never>(),
    allowlist: new IpAllowlist([]),
    expiresAtMs: null,
    isRevoked: false,
    rateLimits: [],
  };
}

describe('KeyCache', () => {
  it('serves what it cached until the key is invalidated, and tells the other processes', async () => {
    const cache = new KeyCache(fakeBus);
    cache.set('h1', entry('a'), null, 0, cache.epoch);
    expect(cache.get('h1', 1)?.id).toBe('a');
    await cache.invalidate('a');
    expect(cache.get('h1', 2)).toBeUndefined();
    expect(published).toContain('a');
  });

  it('does not cache a row read before a change that raced it', async () => {
    const cache = new KeyCache(fakeBus);
    const epochAtLoadStart = cache.epoch;
    await cache.invalidate('b'); // the change arrives while the load is still querying
    const returned = cache.set('h2', entry('b'), null, 0, epochAtLoadStart);
    expect(returned.id).toBe('b');
    expect(cache.get('h2', 1)).toBeUndefined();
  });

  it('expires entries at their stale time (a previous secret’s grace end)', () => {
    const cache = new KeyCache(fakeBus);
    cache.set('h3', entry('c'), 1_000, 0, cache.epoch);
    expect(cache.get('h3', 999)?.id).toBe('c');
    expect(cache.get('h3', 1_000)).toBeUndefined();
  });
});
