import { describe, expect, it } from '@jest/globals';
import { parseTimestamp } from './timestamp.js';

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T01:30:00+01:30', '2026-01-01T00:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads %s', (value, instant) => {
    expect(parseTimestamp(value)?.toISOString()).toBe(instant);
  });

  it.each([
    '2026-W01',
    '2026-032',
    '2026-02-30T00:00:00Z',
    '2027-02-29',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00',
    '+275760-09-13T00:00:00Z',
    '-0001-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00Z',
    '9999-12-31T23:59:59-01:00',
    '0001-01-01T00:00:00+01:00',
    'tomorrow',
  ])('refuses %s', (value) => {
    expect(parseTimestamp(value)).toBeNull();
  });
});
