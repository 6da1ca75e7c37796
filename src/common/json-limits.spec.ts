import { describe, expect, it } from '@jest/globals';
import {
  MAX_ARRAY_ITEMS,
  MAX_JSON_DEPTH,
  MAX_OBJECT_KEYS,
  findUnstorableText,
  jsonShapeProblem,
} from './json-limits.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const objectOf = (keys: number) =>
  JSON.stringify(Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, [1, 2]])));
const arrayOf = (items: number) => JSON.stringify(Array.from({ length: items }, () => ({ a: 1 })));

describe('jsonShapeProblem', () => {
  it('allows nesting up to the bound, and refuses one level more', () => {
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH + 1))).toContain('nest deeper');
    expect(jsonShapeProblem(`{"a": ${nested(MAX_JSON_DEPTH)}}`)).toContain('nest deeper');
  });

  it('does not count brackets, braces or commas inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: `"\\${'[{,'.repeat(5_000)}` });
    expect(jsonShapeProblem(text)).toBeNull();
  });

  it('bounds keys per object and items per array, whatever their siblings hold', () => {
    expect(jsonShapeProblem(objectOf(MAX_OBJECT_KEYS))).toBeNull();
    expect(jsonShapeProblem(objectOf(MAX_OBJECT_KEYS + 1))).toContain('properties');
    expect(jsonShapeProblem(arrayOf(MAX_ARRAY_ITEMS))).toBeNull();
    expect(jsonShapeProblem(arrayOf(MAX_ARRAY_ITEMS + 1))).toContain('items');
    expect(jsonShapeProblem(`[${arrayOf(600)}, ${arrayOf(600)}]`)).toBeNull();
  });

  it('leaves scalars and malformed text to the parser', () => {
    for (const text of ['1', '"x"', 'null', '{"a":', ']]]]', '']) {
      expect(jsonShapeProblem(text)).toBeNull();
    }
  });
});

describe('findUnstorableText', () => {
  it('finds a NUL or a lone surrogate in any string or key, with its dotted field', () => {
    expect(findUnstorableText({ a: [{ b: 'ok' }, { b: 'x\u0000' }] })).toEqual({
      field: 'a.1.b',
      message: expect.stringContaining('NUL'),
    });
    expect(findUnstorableText({ name: 'a\ud800b' })?.message).toContain('surrogate');
    expect(findUnstorableText({ name: '\udc00' })?.field).toBe('name');
    expect(findUnstorableText({ ok: { 'k\u0000': 1 } })).toEqual({
      field: 'ok',
      message: expect.stringContaining('property name'),
    });
    expect(findUnstorableText('\u0000')?.field).toBe('');
  });

  it('accepts well-formed text, surrogate pairs (emoji) and non-strings', () => {
    expect(findUnstorableText({ a: 'rocket 🚀', b: [1, true, null, { c: 'é' }] })).toBeNull();
  });
});
