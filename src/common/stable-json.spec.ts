import { describe, expect, it } from '@jest/globals';
import { stableJson } from './stable-json.js';

describe('stableJson', () => {
  it('is independent of key order at every depth', () => {
    expect(stableJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      stableJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });

  it('keeps array order and distinguishes values', () => {
    expect(stableJson([1, 2])).not.toBe(stableJson([2, 1]));
    expect(stableJson({ a: '1' })).not.toBe(stableJson({ a: 1 }));
  });

  it('drops undefined properties like JSON.stringify and renders a missing body as null', () => {
    expect(stableJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(stableJson(undefined)).toBe('null');
  });
});
