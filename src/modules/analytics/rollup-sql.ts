import { SqlConditions } from '../../database/sql-conditions.js';
import type { RollupSegment } from './usage-range.js';

/** Filters on columns usage_logs and the rollups both have, so both answer the same rows. */
export interface UsageFilter {
  endpoint?: string;
  api_key_id?: string;
  user_id?: string;
  project_id?: number;
  /** `404` or `4xx`. */
  status?: string;
}

/** SqlConditions with the usage readers' shared filter. */
export class Conditions extends SqlConditions {
  filter(filter: UsageFilter): this {
    if (filter.endpoint !== undefined) this.add((p) => `route = ${p}`, filter.endpoint);
    if (filter.api_key_id !== undefined) this.add((p) => `api_key_id = ${p}`, filter.api_key_id);
    if (filter.user_id !== undefined) this.add((p) => `user_id = ${p}`, filter.user_id);
    if (filter.project_id !== undefined) this.add((p) => `project_id = ${p}`, filter.project_id);
    if (filter.status?.endsWith('xx')) {
      const low = Number(filter.status[0]) * 100;
      this.add((p) => `status >= ${p}`, low).add((p) => `status < ${p}`, low + 100);
    } else if (filter.status !== undefined) {
      this.add((p) => `status = ${p}`, Number(filter.status));
    }
    return this;
  }
}

/**
 * What a grain's rollup is read from: the minute rollups, or the view of an hour or day
 * rollup (`shape` the narrow ones'), which adds the minutes not folded into it yet
 * (migrations/1765400060000-FoldUsageRollupsHourly.ts). A view's rows are summed, never
 * taken one by one, within bounds of its grain, and their buckets truncated to the interval
 * asked for: the minutes' rows keep their minute's bucket.
 */
export function rollupSource(grain: RollupSegment['grain'], shape?: 'org' | 'key'): string {
  if (grain === 'minute') return 'usage_rollups_minute';
  return `usage_${shape === undefined ? '' : `${shape}_`}${grain}s`;
}

/** One SELECT of `columns` per segment, each from its rollup over [start, end). */
export function segmentReads(
  conditions: Conditions,
  shared: string,
  segments: RollupSegment[],
  columns: string,
  table: (grain: RollupSegment['grain']) => string = (grain) => rollupSource(grain),
): string[] {
  return segments.map((segment) => {
    const start = conditions.add((p) => p, segment.start).params.length;
    const end = conditions.add((p) => p, segment.end).params.length;
    return `SELECT ${columns}
        FROM ${table(segment.grain)}
        WHERE ${shared} AND bucket >= $${start} AND bucket < $${end}`;
  });
}

/**
 * The rollup table to read for a filter: with nothing but a key and the status to filter on,
 * hours and days come from the narrow rollups, which hold the same sums in far fewer rows
 * (migrations/1764600000000-AddNarrowUsageRollups.ts).
 */
export function rollupTable(
  filter: UsageFilter & { method?: string },
): (grain: RollupSegment['grain']) => string {
  const narrow: 'org' | 'key' | undefined =
    filter.endpoint === undefined &&
    filter.user_id === undefined &&
    filter.project_id === undefined &&
    filter.method === undefined
      ? filter.api_key_id === undefined
        ? 'org'
        : 'key'
      : undefined;
  return (grain) => rollupSource(grain, narrow);
}

export const bigint = (value: string | number): number => Number(value);
