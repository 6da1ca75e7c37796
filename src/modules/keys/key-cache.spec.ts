import { describe, expect, it } from '@jest/globals';
import type { RedisBus } from '../../redis/redis-bus.js';
import { KeyCache, UNKNOWN_MAX_ENTRIES, UNKNOWN_TTL_MS } from './key-cache.js';
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

  it('remembers unknown hashes until their TTL, and forgets them when a key takes the hash', async () => {
    const cache = new KeyCache(fakeBus);
    cache.rememberUnknown('u1', 0, cache.epoch);
    expect(cache.isUnknown('u1', UNKNOWN_TTL_MS - 1)).toBe(true);
    expect(cache.isUnknown('u1', UNKNOWN_TTL_MS)).toBe(false);
    cache.rememberUnknown('u2', 0, cache.epoch);
    await cache.created('u2');
    expect(cache.isUnknown('u2', 1)).toBe(false);
    expect(published).toContain('u2');
  });

  it('does not remember as unknown a hash read before a key was created with it', async () => {
    const cache = new KeyCache(fakeBus);
    const epochAtLoadStart = cache.epoch;
    await cache.created('u3'); // the key is created while the lookup is still querying
    cache.rememberUnknown('u3', 0, epochAtLoadStart);
    expect(cache.isUnknown('u3', 1)).toBe(false);
  });

  it('holds at most a fixed number of unknown hashes, dropping the oldest first', () => {
    const cache = new KeyCache(fakeBus);
    for (let i = 0; i <= UNKNOWN_MAX_ENTRIES; i += 1)
      cache.rememberUnknown(`x${i}`, 0, cache.epoch);
    expect(cache.unknownCount).toBe(UNKNOWN_MAX_ENTRIES);
    expect(cache.isUnknown('x0', 1)).toBe(false);
    expect(cache.isUnknown('x1', 1)).toBe(true);
    expect(cache.isUnknown(`x${UNKNOWN_MAX_ENTRIES}`, 1)).toBe(true);
  });
});
