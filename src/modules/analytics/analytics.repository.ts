import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../database/tenant-scope.js';
import { HISTOGRAM_COLUMNS } from '../usage/latency-histogram.js';
import type { UsageRecord } from '../usage/usage-record.js';
import { type Interval, type RollupSegment, planCount } from './usage-range.js';

/** Filters on columns usage_logs and the rollups both have, so both answer the same rows. */
export interface UsageFilter {
  endpoint?: string;
  api_key_id?: string;
  user_id?: string;
  project_id?: number;
  /** `404` or `4xx`. */
  status?: string;
}

/** One data point's sums, as read from the rollups. */
export interface UsagePointRow {
  point: Date;
  requests: number;
  success_count: number;
  error_count: number;
  rate_limited: number;
  quota_exceeded: number;
  response_time_sum_ms: number;
  response_time_max_ms: number;
  latency_histogram: number[];
}

/** One route's sums over a range, as read from the rollups. */
export interface EndpointRow {
  method: string;
  route: string;
  requests: number;
  error_count: number;
  response_time_sum_ms: number;
  response_time_max_ms: number;
  latency_histogram: number[];
}

/** A usage_logs row as pg returns it: the record, its timestamp a Date. */
export type UsageLogRow = Omit<UsageRecord, 'created_at' | 'organization_id' | 'ip'> & {
  created_at: Date;
  ip: string | null;
};

export interface UsageLogFilter extends UsageFilter {
  start?: Date;
  end?: Date;
  method?: string;
  request_id?: string;
}

/** Positional parameters and the WHERE clauses that use them. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: (param: string) => string, value: unknown): this {
    this.params.push(value);
    this.clauses.push(clause(`$${this.params.length}`));
    return this;
  }

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

  get where(): string {
    return this.clauses.join(' AND ');
  }
}

/** One SELECT of `columns` per segment, each from its rollup table over [start, end). */
function segmentReads(
  conditions: Conditions,
  shared: string,
  segments: RollupSegment[],
  columns: string,
  table: (grain: RollupSegment['grain']) => string = (grain) => `usage_rollups_${grain}`,
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
function rollupTable(
  filter: UsageFilter & { method?: string },
): (grain: RollupSegment['grain']) => string {
  const narrow =
    filter.endpoint === undefined &&
    filter.user_id === undefined &&
    filter.project_id === undefined &&
    filter.method === undefined
      ? filter.api_key_id === undefined
        ? 'org'
        : 'key'
      : undefined;
  return (grain) =>
    narrow !== undefined && grain !== 'minute'
      ? `usage_rollups_${narrow}_${grain}`
      : `usage_rollups_${grain}`;
}

const bigint = (value: string | number): number => Number(value);

@Injectable()
export class AnalyticsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Sums per data point (the `interval` bucket, UTC) of the rollup rows of the segments, each
   * read from its own table (usage_rollups_<grain>) over [start, end); points without rows
   * are absent. Reads the rollups' (organization_id, bucket, ...) index, never usage_logs;
   * for hours and days filtered by nothing but a key and the status, the narrow rollups.
   */
  async usagePoints(
    scope: TenantScope,
    interval: Interval,
    segments: RollupSegment[],
    filter: UsageFilter,
  ): Promise<UsagePointRow[]> {
    if (segments.length === 0) return [];
    const conditions = new Conditions()
      .add((p) => `organization_id = ${p}`, scope.organizationId)
      .filter(filter);
    const pieces = segmentReads(
      conditions,
      conditions.where,
      segments,
      `bucket, status, requests, rate_limited, quota_exceeded, response_time_sum_ms,
          response_time_max_ms, ${HISTOGRAM_COLUMNS.join(', ')}`,
      rollupTable(filter),
    );
    const intervalParam = conditions.add((p) => p, interval).params.length;
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT date_trunc($${intervalParam}, bucket, 'UTC') AS point,
         sum(requests) AS requests,
         coalesce(sum(requests) FILTER (WHERE status < 400), 0) AS success_count,
         coalesce(sum(requests) FILTER (WHERE status >= 400), 0) AS error_count,
         sum(rate_limited) AS rate_limited, sum(quota_exceeded) AS quota_exceeded,
         sum(response_time_sum_ms) AS response_time_sum_ms,
         max(response_time_max_ms) AS response_time_max_ms,
         ${HISTOGRAM_COLUMNS.map((column) => `sum(${column}) AS ${column}`).join(', ')}
       FROM (${pieces.join(' UNION ALL ')}) AS r
       GROUP BY 1 ORDER BY 1`,
      conditions.params,
    );
    return rows.map((row) => ({
      point: row.point as Date,
      requests: bigint(row.requests as string),
      success_count: bigint(row.success_count as string),
      error_count: bigint(row.error_count as string),
      rate_limited: bigint(row.rate_limited as string),
      quota_exceeded: bigint(row.quota_exceeded as string),
      response_time_sum_ms: Number(row.response_time_sum_ms),
      response_time_max_ms: Number(row.response_time_max_ms),
      latency_histogram: HISTOGRAM_COLUMNS.map((column) => bigint(row[column] as string)),
    }));
  }

  /**
   * Per (method, route) sums of the rollup rows of the segments, the busiest `limit` routes
   * first (ties by route, then method). Reads the rollups only.
   */
  async topEndpoints(
    scope: TenantScope,
    segments: RollupSegment[],
    filter: UsageFilter,
    limit: number,
  ): Promise<EndpointRow[]> {
    if (segments.length === 0) return [];
    const conditions = new Conditions()
      .add((p) => `organization_id = ${p}`, scope.organizationId)
      .filter(filter);
    const shared = conditions.where;
    const pieces = segmentReads(
      conditions,
      shared,
      segments,
      `method, route, status, requests, response_time_sum_ms, response_time_max_ms,
          ${HISTOGRAM_COLUMNS.join(', ')}`,
    );
    const limitParam = conditions.add((p) => p, limit).params.length;
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT method, route, sum(requests) AS requests,
         coalesce(sum(requests) FILTER (WHERE status >= 400), 0) AS error_count,
         sum(response_time_sum_ms) AS response_time_sum_ms,
         max(response_time_max_ms) AS response_time_max_ms,
         ${HISTOGRAM_COLUMNS.map((column) => `sum(${column}) AS ${column}`).join(', ')}
       FROM (${pieces.join(' UNION ALL ')}) AS r
       GROUP BY method, route ORDER BY sum(requests) DESC, route, method
       LIMIT $${limitParam}`,
      conditions.params,
    );
    return rows.map((row) => ({
      method: row.method as string,
      route: row.route as string,
      requests: bigint(row.requests as string),
      error_count: bigint(row.error_count as string),
      response_time_sum_ms: Number(row.response_time_sum_ms),
      response_time_max_ms: Number(row.response_time_max_ms),
      latency_histogram: HISTOGRAM_COLUMNS.map((column) => bigint(row[column] as string)),
    }));
  }

  /**
   * Counts since `start`: requests, errors and 429s (rate limit or quota) from the minute
   * rollups; distinct keys and users from usage_logs (the rollups cannot count distinct).
   */
  async realtime(
    scope: TenantScope,
    start: Date,
    distinct: boolean,
  ): Promise<{
    requests: number;
    errors: number;
    events: number;
    active_keys: number;
    active_users: number;
  }> {
    const [sums] = await this.dataSource.query<Record<string, string>[]>(
      `SELECT coalesce(sum(requests), 0) AS requests,
         coalesce(sum(requests) FILTER (WHERE status >= 400), 0) AS errors,
         coalesce(sum(rate_limited + quota_exceeded), 0) AS events
       FROM usage_rollups_minute WHERE organization_id = $1 AND bucket >= $2`,
      [scope.organizationId, start],
    );
    const [active] = distinct
      ? await this.dataSource.query<Record<string, string>[]>(
          `SELECT count(DISTINCT api_key_id) AS active_keys, count(DISTINCT user_id) AS active_users
           FROM usage_logs WHERE organization_id = $1 AND created_at >= $2`,
          [scope.organizationId, start],
        )
      : [];
    return {
      requests: bigint(sums?.requests ?? 0),
      errors: bigint(sums?.errors ?? 0),
      events: bigint(sums?.events ?? 0),
      active_keys: bigint(active?.active_keys ?? 0),
      active_users: bigint(active?.active_users ?? 0),
    };
  }

  /** The organization's usage log, newest first, filtered; and how many rows match. */
  async listLogs(
    scope: TenantScope,
    filter: UsageLogFilter,
    page: { limit: number; offset: number },
    now: Date = new Date(),
  ): Promise<[UsageLogRow[], number]> {
    const conditions = logConditions(scope, filter);
    if (filter.start !== undefined) conditions.add((p) => `created_at >= ${p}`, filter.start);
    if (filter.end !== undefined) conditions.add((p) => `created_at < ${p}`, filter.end);
    const where = conditions.where;
    const params = conditions.params;
    const [rows, total] = await Promise.all([
      this.dataSource.query<UsageLogRow[]>(
        `SELECT id, created_at, method, path, route, status, response_time_ms, request_bytes,
           response_bytes, ip, user_agent, api_key_id, user_id, project_id, api_version,
           error_code, request_id
         FROM usage_logs WHERE ${where}
         ORDER BY created_at DESC, id DESC
         LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, page.limit, page.offset],
      ),
      filter.request_id === undefined
        ? this.countLogs(scope, filter, now)
        : // The rollups know no request ids: counted row by row.
          this.dataSource
            .query<{ total: string }[]>(
              `SELECT count(*) AS total FROM usage_logs WHERE ${where}`,
              params,
            )
            .then(([counted]) => bigint(counted?.total ?? 0)),
    ]);
    return [rows, total];
  }

  /**
   * How many log rows match a filter the rollups have every column of, without reading them
   * all: the range is narrowed to the organization's first and last row in it (usage_logs
   * keeps the last USAGE_RETENTION_DAYS, the rollups longer), its whole buckets summed from
   * the rollups (written with the rows, in the same statement), its edges finer than a bucket
   * counted from usage_logs (planCount). Equal to count(*) over the same rows.
   */
  private async countLogs(scope: TenantScope, filter: UsageLogFilter, now: Date): Promise<number> {
    const held = new Conditions().add((p) => `organization_id = ${p}`, scope.organizationId);
    if (filter.start !== undefined) held.add((p) => `created_at >= ${p}`, filter.start);
    if (filter.end !== undefined) held.add((p) => `created_at < ${p}`, filter.end);
    const [bounds] = await this.dataSource.query<{ first: Date | null; last: Date | null }[]>(
      `SELECT min(created_at) AS first, max(created_at) AS last FROM usage_logs WHERE ${held.where}`,
      held.params,
    );
    if (!bounds?.first || !bounds.last) return 0;
    // pg's Dates drop microseconds: the first is not after the first row, and the last plus
    // a millisecond is after the last row (an end_date, when given, is at most that).
    const end = filter.end ?? new Date(bounds.last.getTime() + 1);
    const plan = planCount(bounds.first, end, now);
    const conditions = logConditions(scope, filter);
    const shared = conditions.where;
    const raw = plan.raw.map(({ start, end: until }) => {
      const from = conditions.add((p) => p, start).params.length;
      const to = conditions.add((p) => p, until).params.length;
      return `SELECT count(*) AS n FROM usage_logs
        WHERE ${shared} AND created_at >= $${from} AND created_at < $${to}`;
    });
    const rolled = segmentReads(
      conditions,
      shared,
      plan.segments,
      'sum(requests) AS n',
      rollupTable(filter),
    );
    const [counted] = await this.dataSource.query<{ total: string | null }[]>(
      `SELECT sum(n) AS total FROM (${[...raw, ...rolled].join(' UNION ALL ')}) AS pieces`,
      conditions.params,
    );
    return bigint(counted?.total ?? 0);
  }
}

/** The log's conditions but its range: the organization and the filters. */
function logConditions(scope: TenantScope, filter: UsageLogFilter): Conditions {
  const conditions = new Conditions()
    .add((p) => `organization_id = ${p}`, scope.organizationId)
    .filter(filter);
  if (filter.method !== undefined) conditions.add((p) => `method = ${p}`, filter.method);
  if (filter.request_id !== undefined)
    conditions.add((p) => `request_id = ${p}`, filter.request_id);
  return conditions;
}
