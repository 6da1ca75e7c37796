import type { FieldError } from '../../common/app-error.js';
import { HOUR_DAY_ROLLUPS_MONTHS, MINUTE_ROLLUPS_DAYS } from '../usage/usage-logs-retention.js';

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];
/** The rollup tables' granularities, coarsest first. */
export type Grain = 'day' | 'hour' | 'minute';

/** At most this many data points in one answer. */
export const MAX_POINTS = 10_000;
/** When no start_date is given: this long before end_date. */
export const DEFAULT_SPAN_MS = 86_400_000;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const GRAIN_MS: Record<Grain, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/** The rollups a data point of each interval can be summed from (their buckets nest in it). */
const GRAINS_OF: Record<Interval, Grain[]> = {
  minute: ['minute'],
  hour: ['hour', 'minute'],
  day: ['day', 'hour', 'minute'],
  week: ['day', 'hour', 'minute'],
  month: ['day', 'hour', 'minute'],
};

/** One piece of the range, read from one rollup table: [start, end). */
export interface RollupSegment {
  grain: Grain;
  start: Date;
  end: Date;
}

export interface UsagePlan {
  /** The range answered, [start, end): the one asked, widened to whole minutes (or hours). */
  start: Date;
  end: Date;
  interval: Interval;
  /** The start of every data point, in order, empty ones included. */
  points: Date[];
  /** Whole buckets of the coarsest rollups that fit, finer ones at the edges. */
  segments: RollupSegment[];
}

const floorTo = (time: number, grain: Grain) =>
  Math.floor(time / GRAIN_MS[grain]) * GRAIN_MS[grain];
const ceilTo = (time: number, grain: Grain) => Math.ceil(time / GRAIN_MS[grain]) * GRAIN_MS[grain];

/** The start of the interval (UTC; weeks start on Monday, as Postgres's date_trunc). */
export function truncate(time: Date, interval: Interval): Date {
  const d = new Date(time);
  switch (interval) {
    case 'minute':
    case 'hour':
    case 'day':
      return new Date(floorTo(d.getTime(), interval));
    case 'week': {
      const day = new Date(floorTo(d.getTime(), 'day'));
      return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
    }
    case 'month':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  }
}

function nextPoint(point: Date, interval: Interval): Date {
  switch (interval) {
    case 'minute':
    case 'hour':
    case 'day':
      return new Date(point.getTime() + GRAIN_MS[interval]);
    case 'week':
      return new Date(point.getTime() + 7 * DAY_MS);
    case 'month':
      return new Date(Date.UTC(point.getUTCFullYear(), point.getUTCMonth() + 1, 1));
  }
}

function addMonths(time: Date, months: number): Date {
  const d = new Date(time);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/** [start, end) as whole buckets of `grains[0]`, and the edges of it from the finer grains. */
function segmentsOf(start: number, end: number, grains: Grain[]): RollupSegment[] {
  if (start >= end) return [];
  const [grain, ...finer] = grains;
  if (grain === undefined) return [];
  const middleStart = ceilTo(start, grain);
  const middleEnd = floorTo(end, grain);
  if (finer.length === 0 || middleStart >= middleEnd) {
    return finer.length === 0
      ? [{ grain, start: new Date(start), end: new Date(end) }]
      : segmentsOf(start, end, finer);
  }
  return [
    ...segmentsOf(start, middleStart, finer),
    { grain, start: new Date(middleStart), end: new Date(middleEnd) },
    ...segmentsOf(middleEnd, end, finer),
  ];
}

export type PlanResult = { plan: UsagePlan } | { errors: FieldError[] };

/** An end not after the start: refused by every usage reader, the raw log's too. */
export const REVERSED_RANGE: FieldError = {
  field: 'end_date',
  message: 'end_date must be after start_date',
};

/**
 * What a usage query reads, or why it is refused (each error naming its field). The range is
 * widened to whole minutes, or whole hours where minute rollups are no longer kept (older
 * than 7 days), so that it is answered exactly from rollups; refused: an end not after the
 * start, more than 13 months, minute points older than 7 days, more than 10,000 points.
 */
export function planUsage(
  query: { start?: Date; end?: Date; interval: Interval },
  now: Date,
): PlanResult {
  const { interval } = query;
  const minuteHorizon = now.getTime() - MINUTE_ROLLUPS_DAYS * DAY_MS;
  const asked = { end: query.end ?? now };
  const askedStart = query.start ?? new Date(asked.end.getTime() - DEFAULT_SPAN_MS);
  if (asked.end.getTime() <= askedStart.getTime()) {
    return { errors: [REVERSED_RANGE] };
  }
  if (asked.end.getTime() > addMonths(askedStart, HOUR_DAY_ROLLUPS_MONTHS).getTime()) {
    return {
      errors: [
        {
          field: 'end_date',
          message: `end_date must be at most ${HOUR_DAY_ROLLUPS_MONTHS} months after start_date`,
        },
      ],
    };
  }
  const precision = (time: number): Grain => (time >= minuteHorizon ? 'minute' : 'hour');
  const start = floorTo(askedStart.getTime(), precision(askedStart.getTime()));
  const end = ceilTo(asked.end.getTime(), precision(asked.end.getTime()));
  if (interval === 'minute' && start < minuteHorizon) {
    return {
      errors: [
        {
          field: 'start_date',
          message: `minute data is kept ${MINUTE_ROLLUPS_DAYS} days: start_date must be within them for interval=minute`,
        },
      ],
    };
  }
  const points: Date[] = [];
  for (let point = truncate(new Date(start), interval); point.getTime() < end;) {
    if (points.length === MAX_POINTS) {
      return {
        errors: [
          {
            field: 'interval',
            message: `the range has more than ${MAX_POINTS} ${interval} intervals; choose a coarser interval or a shorter range`,
          },
        ],
      };
    }
    points.push(point);
    point = nextPoint(point, interval);
  }
  return {
    plan: {
      start: new Date(start),
      end: new Date(end),
      interval,
      points,
      segments: segmentsOf(start, end, GRAINS_OF[interval]),
    },
  };
}

/** How an exact count of the log's rows in [start, end) is read. */
export interface CountPlan {
  /** Pieces shorter than one kept rollup bucket, at the edges: counted from usage_logs. */
  raw: { start: Date; end: Date }[];
  /** The whole buckets between them, summed from the rollups. */
  segments: RollupSegment[];
}

/**
 * [start, end) as whole rollup buckets (days, then hours, then minutes where minute rollups
 * are still kept) and the two edges finer than that, which only usage_logs can count: at most
 * a minute each within the last 7 days, an hour before. A range shorter than that is all raw.
 */
export function planCount(start: Date, end: Date, now: Date): CountPlan {
  const minuteHorizon = now.getTime() - MINUTE_ROLLUPS_DAYS * DAY_MS;
  const finest = (time: number): Grain => (time >= minuteHorizon ? 'minute' : 'hour');
  const middleStart = ceilTo(start.getTime(), finest(start.getTime()));
  const middleEnd = floorTo(end.getTime(), finest(end.getTime()));
  if (middleStart >= middleEnd) {
    return { raw: start < end ? [{ start, end }] : [], segments: [] };
  }
  const raw = [
    { start, end: new Date(middleStart) },
    { start: new Date(middleEnd), end },
  ].filter((piece) => piece.start < piece.end);
  return { raw, segments: segmentsOf(middleStart, middleEnd, ['day', 'hour', 'minute']) };
}
