import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { currentPeriod } from './quota-period.js';

const at = (iso: string): number => new Date(iso).getTime();
const iso = (ms: number): string => new Date(ms).toISOString();

describe('currentPeriod', () => {
  it('daily is the UTC calendar day, edges included', () => {
    const daily = { period: 'daily' as const, periodStartMs: null, periodEndMs: null };
    const day = currentPeriod(daily, at('2026-11-25T23:59:59.999Z'));
    expect([iso(day.startMs), iso(day.endMs)]).toEqual([
      '2026-11-25T00:00:00.000Z',
      '2026-11-26T00:00:00.000Z',
    ]);
    expect(iso(currentPeriod(daily, at('2026-11-26T00:00:00.000Z')).startMs)).toBe(
      '2026-11-26T00:00:00.000Z',
    );
  });

  it('monthly is the UTC calendar month, across year ends and leap Februaries', () => {
    const monthly = { period: 'monthly' as const, periodStartMs: null, periodEndMs: null };
    const december = currentPeriod(monthly, at('2026-12-31T23:59:59.999Z'));
    expect([iso(december.startMs), iso(december.endMs)]).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
    const february = currentPeriod(monthly, at('2028-02-29T12:00:00.000Z'));
    expect(iso(february.endMs)).toBe('2028-03-01T00:00:00.000Z');
  });

  it('custom periods repeat back to back from their start, before and after it', () => {
    const custom = {
      period: 'custom' as const,
      periodStartMs: at('2026-11-15T00:00:00.000Z'),
      periodEndMs: at('2026-12-15T00:00:00.000Z'),
    };
    const first = currentPeriod(custom, at('2026-11-20T00:00:00.000Z'));
    expect([iso(first.startMs), iso(first.endMs)]).toEqual([
      '2026-11-15T00:00:00.000Z',
      '2026-12-15T00:00:00.000Z',
    ]);
    expect(iso(currentPeriod(custom, at('2026-12-15T00:00:00.000Z')).startMs)).toBe(
      '2026-12-15T00:00:00.000Z',
    );
    expect(iso(currentPeriod(custom, at('2026-11-14T23:59:59.999Z')).startMs)).toBe(
      '2026-10-16T00:00:00.000Z',
    );
  });

  it('every instant lies in its period, whatever the schedule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1, max: 100 * 86_400_000 }),
        fc.constantFrom('daily' as const, 'monthly' as const, 'custom' as const),
        (now, anchor, length, period) => {
          const bounds = currentPeriod(
            { period, periodStartMs: anchor, periodEndMs: anchor + length },
            now,
          );
          expect(bounds.startMs).toBeLessThanOrEqual(now);
          expect(bounds.endMs).toBeGreaterThan(now);
        },
      ),
    );
  });
});
