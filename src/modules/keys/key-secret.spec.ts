import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { hashKeyOf } from './key-cache.js';
import {
  displayPrefix,
  generateSecret,
  hashSecret,
  parseSecret,
  secretHashKey,
} from './key-secret.js';

describe('key secrets', () => {
  it('have the documented shape and parse back to their environment', () => {
    for (const environment of ['live', 'test'] as const) {
      const secret = generateSecret(environment);
      expect(secret).toMatch(new RegExp(`^sk_${environment}_[0-9A-Za-z]{38}$`));
      expect(parseSecret(secret)).toBe(environment);
      expect(displayPrefix(secret)).toBe(secret.slice(0, 14));
    }
  });

  it('are unique', () => {
    const secrets = new Set(Array.from({ length: 2_000 }, () => generateSecret('live')));
    expect(secrets.size).toBe(2_000);
  });

  it('reject any single-character change, a swapped environment, and other shapes', () => {
    const secret = generateSecret('live');
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: secret.length - 1 }),
        fc.constantFrom(...'0aZ9'.split('')),
        (index, ch) => {
          fc.pre(secret[index] !== ch);
          const mutated = secret.slice(0, index) + ch + secret.slice(index + 1);
          expect(parseSecret(mutated)).toBeNull();
        },
      ),
    );
    expect(parseSecret(secret.replace('sk_live_', 'sk_test_'))).toBeNull();
    for (const bad of [
      '',
      'sk_live_',
      'Bearer x',
      `${secret}x`,
      secret.slice(0, -1),
      'sk_prod_' + secret.slice(8),
    ]) {
      expect(parseSecret(bad)).toBeNull();
    }
  });

  it('hash to 32 bytes, equal only for equal secrets', () => {
    const secret = generateSecret('test');
    expect(hashSecret(secret)).toHaveLength(32);
    expect(hashSecret(secret).equals(hashSecret(secret))).toBe(true);
    expect(hashSecret(secret).equals(hashSecret(generateSecret('test')))).toBe(false);
  });

  it('have the key cache key of their hash (what keys are cached and looked up by)', () => {
    fc.assert(
      fc.property(fc.string(), (secret) => {
        expect(secretHashKey(secret)).toBe(hashKeyOf(hashSecret(secret)));
        expect(Buffer.from(secretHashKey(secret), 'base64').equals(hashSecret(secret))).toBe(true);
      }),
    );
  });
});
