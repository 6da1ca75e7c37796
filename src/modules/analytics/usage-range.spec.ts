import { describe, expect, it } from '@jest/globals';
import { type PlanResult, type UsagePlan, planCount, planUsage, truncate } from './usage-range.js';

const NOW = new Date('2026-03-15T12:34:56.789Z');
const at = (iso: string) => new Date(iso);

function planOf(result: PlanResult): UsagePlan {
  if ('errors' in result) throw new Error(JSON.stringify(result.errors));
  return result.plan;
}
const fieldsOf = (result: PlanResult) =>
  'errors' in result ? result.errors.map((e) => e.field) : [];
const segments = (plan: UsagePlan) =>
  plan.segments.map((s) => `${s.grain} ${s.start.toISOString()} ${s.end.toISOString()}`);

describe('planUsage', () => {
  it('reads whole days from the day rollups and the edges from hours and minutes', () => {
    const plan = planOf(
      planUsage(
        { start: at('2026-03-12T22:30:00Z'), end: at('2026-03-15T01:00:00Z'), interval: 'day' },
        NOW,
      ),
    );
    expect(segments(plan)).toEqual([
      'minute 2026-03-12T22:30:00.000Z 2026-03-12T23:00:00.000Z',
      'hour 2026-03-12T23:00:00.000Z 2026-03-13T00:00:00.000Z',
      'day 2026-03-13T00:00:00.000Z 2026-03-15T00:00:00.000Z',
      'hour 2026-03-15T00:00:00.000Z 2026-03-15T01:00:00.000Z',
    ]);
    expect(plan.points.map((p) => p.toISOString())).toEqual([
      '2026-03-12T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-03-14T00:00:00.000Z',
      '2026-03-15T00:00:00.000Z',
    ]);
  });

  it('widens to whole minutes, and to whole hours where minute rollups are gone', () => {
    const recent = planOf(
      planUsage({ start: at('2026-03-15T10:00:30Z'), end: NOW, interval: 'minute' }, NOW),
    );
    expect([recent.start.toISOString(), recent.end.toISOString()]).toEqual([
      '2026-03-15T10:00:00.000Z',
      '2026-03-15T12:35:00.000Z',
    ]);
    expect(recent.points).toHaveLength(155);
    const old = planOf(
      planUsage({ start: at('2026-02-01T10:20:00Z'), end: NOW, interval: 'hour' }, NOW),
    );
    expect(old.start.toISOString()).toBe('2026-02-01T10:00:00.000Z');
    expect(
      old.segments.every((s) => s.grain !== 'minute' || s.start >= at('2026-03-08T12:34:56Z')),
    ).toBe(true);
  });

  it('defaults to the last 24 hours', () => {
    const plan = planOf(planUsage({ interval: 'hour' }, NOW));
    expect(plan.points).toHaveLength(25);
    expect(plan.end.toISOString()).toBe('2026-03-15T12:35:00.000Z');
  });

  it('refuses bad ranges, naming the field', () => {
    expect(
      fieldsOf(planUsage({ start: NOW, end: at('2026-03-01T00:00:00Z'), interval: 'day' }, NOW)),
    ).toEqual(['end_date']);
    expect(fieldsOf(planUsage({ start: NOW, end: NOW, interval: 'day' }, NOW))).toEqual([
      'end_date',
    ]);
    expect(
      fieldsOf(
        planUsage(
          { start: at('2025-01-01T00:00:00Z'), end: at('2026-02-02T00:00:00Z'), interval: 'month' },
          NOW,
        ),
      ),
    ).toEqual(['end_date']);
    expect(
      fieldsOf(
        planUsage(
          { start: at('2025-02-01T00:00:00Z'), end: at('2026-03-01T00:00:00Z'), interval: 'month' },
          NOW,
        ),
      ),
    ).toEqual([]);
    expect(
      fieldsOf(planUsage({ start: at('2026-03-01T00:00:00Z'), end: NOW, interval: 'minute' }, NOW)),
    ).toEqual(['start_date']);
    expect(
      fieldsOf(planUsage({ start: at('2026-03-08T12:40:00Z'), end: NOW, interval: 'minute' }, NOW)),
    ).toEqual(['interval']);
  });

  it('truncates weeks to Monday and months to the 1st, UTC', () => {
    expect(truncate(at('2026-03-15T12:00:00Z'), 'week').toISOString()).toBe(
      '2026-03-09T00:00:00.000Z',
    );
    expect(truncate(at('2026-03-16T00:00:00Z'), 'week').toISOString()).toBe(
      '2026-03-16T00:00:00.000Z',
    );
    expect(truncate(at('2026-03-15T12:00:00Z'), 'month').toISOString()).toBe(
      '2026-03-01T00:00:00.000Z',
    );
  });
});

describe('planCount', () => {
  const pieces = (start: string, end: string) => {
    const plan = planCount(at(start), at(end), NOW);
    return [
      ...plan.raw.map((r) => `raw ${r.start.toISOString()} ${r.end.toISOString()}`),
      ...plan.segments.map((s) => `${s.grain} ${s.start.toISOString()} ${s.end.toISOString()}`),
    ];
  };

  it.each<[string, string, string, string[]]>([
    [
      'within the minute rollups: raw edges under a minute, then minutes, hours and days',
      '2026-03-12T22:30:15.250Z',
      '2026-03-15T01:02:03.004Z',
      [
        'raw 2026-03-12T22:30:15.250Z 2026-03-12T22:31:00.000Z',
        'raw 2026-03-15T01:02:00.000Z 2026-03-15T01:02:03.004Z',
        'minute 2026-03-12T22:31:00.000Z 2026-03-12T23:00:00.000Z',
        'hour 2026-03-12T23:00:00.000Z 2026-03-13T00:00:00.000Z',
        'day 2026-03-13T00:00:00.000Z 2026-03-15T00:00:00.000Z',
        'hour 2026-03-15T00:00:00.000Z 2026-03-15T01:00:00.000Z',
        'minute 2026-03-15T01:00:00.000Z 2026-03-15T01:02:00.000Z',
      ],
    ],
    [
      'older than the minute rollups: the old edge is raw up to its next hour',
      '2026-02-20T10:20:00Z',
      '2026-03-15T12:00:30Z',
      [
        'raw 2026-02-20T10:20:00.000Z 2026-02-20T11:00:00.000Z',
        'raw 2026-03-15T12:00:00.000Z 2026-03-15T12:00:30.000Z',
        'hour 2026-02-20T11:00:00.000Z 2026-02-21T00:00:00.000Z',
        'day 2026-02-21T00:00:00.000Z 2026-03-15T00:00:00.000Z',
        'hour 2026-03-15T00:00:00.000Z 2026-03-15T12:00:00.000Z',
      ],
    ],
    [
      'shorter than one bucket: all raw',
      '2026-03-15T12:00:10Z',
      '2026-03-15T12:00:50Z',
      ['raw 2026-03-15T12:00:10.000Z 2026-03-15T12:00:50.000Z'],
    ],
    [
      'aligned: no raw piece',
      '2026-03-14T00:00:00Z',
      '2026-03-15T00:00:00Z',
      ['day 2026-03-14T00:00:00.000Z 2026-03-15T00:00:00.000Z'],
    ],
  ])('%s', (_name, start, end, expected) => {
    expect(pieces(start, end)).toEqual(expected);
  });
});
