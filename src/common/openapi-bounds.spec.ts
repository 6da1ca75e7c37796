import { describe, expect, it } from '@jest/globals';
import { IsString, Length, Matches, MaxLength } from 'class-validator';
import { maxLengthOf, patternMaxLength } from './openapi-bounds.js';

describe('patternMaxLength', () => {
  it.each([
    [/^[A-Za-z0-9_.-]{3,64}$/, 64],
    [/^[a-z0-9][a-z0-9-]{0,62}$/, 63],
    [/^v[0-9]{1,9}$/, 10],
    [/^[A-Za-z0-9._:-]{1,128}$/, 128],
    [/^a?b{2}\.[\]x]$/, 5],
    [/^[a-z]{2}$/i, 2],
  ])('reads %s as at most %s characters', (pattern, length) => {
    expect(patternMaxLength(pattern)).toBe(length);
  });

  it.each([
    /^[a-z]+$/,
    /^a*$/,
    /^a{2,}$/,
    /[a-z]{1,3}/,
    /^[a-z]{1,3}/,
    /^(a)\1$/,
    /^a|b$/,
    /^sk_(live|test)$/,
  ])('has no bound for %s', (pattern) => {
    expect(patternMaxLength(pattern)).toBeUndefined();
  });

  it('is never below the length of a string the pattern matches', () => {
    for (const [pattern, text] of [
      [/^\u0041{1,2}$/, 'AA'],
      [/^[\d-]{0,4}x?$/, '12-4x'],
      [/^.{1,3}$/, 'abc'],
    ] as const) {
      expect(pattern.test(text)).toBe(true);
      expect(patternMaxLength(pattern)).toBeGreaterThanOrEqual(text.length);
    }
  });
});

class Example {
  @Matches(/^[a-z]{1,64}$/)
  @MaxLength(32)
  name: string;

  @IsString()
  @Length(1, 200)
  title: string;

  @IsString()
  free: string;
}

describe('maxLengthOf', () => {
  it("is the tightest bound a property's validators enforce", () => {
    expect(maxLengthOf(Example, 'name')).toEqual({ maxLength: 32 });
    expect(maxLengthOf(Example, 'title')).toEqual({ maxLength: 200 });
  });

  it('refuses a property with no bound', () => {
    expect(() => maxLengthOf(Example, 'free')).toThrow('Example.free');
  });
});
