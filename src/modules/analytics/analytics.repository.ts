import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../database/tenant-scope.js';
import { HISTOGRAM_COLUMNS } from '../usage/latency-histogram.js';
import type { UsageRecord } from '../usage/usage-record.js';
import type { Interval, RollupSegment } from './usage-range.js';

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
export type UsageLogRow = Omit<
  UsageRecord,
  'created_at' | 'organization_id' | 'ip' | 'limit_type' | 'limit_value' | 'current_usage'
> & {
  created_at: Date;
  ip: string | null;
};

export interface UsageLogFilter extends UsageFilter {
  start?: Date;
  end?: Date;
  method?: string;
  request_id?: string;
}

/** A refused request's usage_logs row, as pg returns it. */
export interface LimitEventRow {
  created_at: Date;
  api_key_id: string | null;
  user_id: string | null;
  method: string;
  route: string;
  limit_type: string;
  limit_value: string;
  current_usage: string;
  request_id: string;
}

export interface LimitEventFilter {
  start: Date;
  end: Date;
  api_key_id?: string;
  user_id?: string;
}

/** One key's requests to an API version, from the rollups. */
export interface VersionCallsRow {
  organization_id: string;
  api_key_id: string;
  requests: number;
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
    const shared = conditions.where;
    // Nothing but a key and the status to filter on: the narrow rollups hold the same sums in
    // far fewer rows (migrations/1764600000000-AddNarrowUsageRollups.ts).
    const narrow =
      filter.endpoint === undefined &&
      filter.user_id === undefined &&
      filter.project_id === undefined
        ? filter.api_key_id === undefined
          ? 'org'
          : 'key'
        : undefined;
    const pieces = segmentReads(
      conditions,
      shared,
      segments,
      `bucket, status, requests, rate_limited, quota_exceeded, response_time_sum_ms,
          response_time_max_ms, ${HISTOGRAM_COLUMNS.join(', ')}`,
      (grain) =>
        narrow !== undefined && grain !== 'minute'
          ? `usage_rollups_${narrow}_${grain}`
          : `usage_rollups_${grain}`,
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
  ): Promise<[UsageLogRow[], number]> {
    const conditions = new Conditions()
      .add((p) => `organization_id = ${p}`, scope.organizationId)
      .filter(filter);
    if (filter.start !== undefined) conditions.add((p) => `created_at >= ${p}`, filter.start);
    if (filter.end !== undefined) conditions.add((p) => `created_at < ${p}`, filter.end);
    if (filter.method !== undefined) conditions.add((p) => `method = ${p}`, filter.method);
    if (filter.request_id !== undefined)
      conditions.add((p) => `request_id = ${p}`, filter.request_id);
    const where = conditions.where;
    const params = conditions.params;
    const [rows, [counted]] = await Promise.all([
      this.dataSource.query<UsageLogRow[]>(
        `SELECT id, created_at, method, path, route, status, response_time_ms, request_bytes,
           response_bytes, ip, user_agent, api_key_id, user_id, project_id, api_version,
           error_code, request_id
         FROM usage_logs WHERE ${where}
         ORDER BY created_at DESC, id DESC
         LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, page.limit, page.offset],
      ),
      this.dataSource.query<{ total: string }[]>(
        `SELECT count(*) AS total FROM usage_logs WHERE ${where}`,
        params,
      ),
    ]);
    return [rows, bigint(counted?.total ?? 0)];
  }

  /** Whether the key is the organization's (revoked and expired keys included). */
  async isOwnKey(scope: TenantScope, keyId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM api_keys WHERE organization_id = $1 AND id = $2',
      [scope.organizationId, keyId],
    );
    return rows.length > 0;
  }

  /**
   * The organization's refused requests (usage_logs rows with a limit_type) in [start, end),
   * newest first, and how many match. Both can read the partial index of refused rows
   * (usage_logs_limit_events_idx) instead of the admitted traffic.
   */
  async listLimitEvents(
    scope: TenantScope,
    filter: LimitEventFilter,
    page: { limit: number; offset: number },
  ): Promise<[LimitEventRow[], number]> {
    const conditions = new Conditions()
      .add((p) => `organization_id = ${p}`, scope.organizationId)
      .add((p) => `created_at >= ${p}`, filter.start)
      .add((p) => `created_at < ${p}`, filter.end)
      .filter({ api_key_id: filter.api_key_id, user_id: filter.user_id });
    const where = `${conditions.where} AND limit_type IS NOT NULL`;
    const params = conditions.params;
    // One statement, so the count and the page are read from the same snapshot (a batch
    // committed between two reads would make them disagree); no page row: one row of nulls.
    type Row = Omit<LimitEventRow, 'created_at'> & { created_at: Date | null; total: string };
    const rows = await this.dataSource.query<Row[]>(
      `SELECT page.*, counted.total
       FROM (SELECT count(*) AS total FROM usage_logs WHERE ${where}) AS counted
       LEFT JOIN LATERAL (
         SELECT created_at, api_key_id, user_id, method, route, limit_type, limit_value,
           current_usage, request_id
         FROM usage_logs WHERE ${where}
         ORDER BY created_at DESC, id DESC
         LIMIT $${params.length + 1} OFFSET $${params.length + 2}
       ) AS page ON true`,
      [...params, page.limit, page.offset],
    );
    const events = rows.filter((row): row is Row & LimitEventRow => row.created_at !== null);
    return [events, bigint(rows[0]?.total ?? 0)];
  }

  /**
   * Requests to `version` per organization and key over [hoursFrom, ∞): hour rollups up to
   * `daysFrom` (a day boundary), day rollups from it. Platform-wide (the version lifecycle
   * reads it for every organization): no tenant scope, by design.
   */
  async versionCallsByKey(
    version: string,
    hoursFrom: Date,
    daysFrom: Date,
  ): Promise<VersionCallsRow[]> {
    const rows = await this.dataSource.query<
      { organization_id: string; api_key_id: string; requests: string }[]
    >(
      `SELECT organization_id, api_key_id, sum(requests) AS requests
       FROM (
         SELECT organization_id, api_key_id, requests FROM usage_rollups_hour
         WHERE api_version = $1 AND api_key_id IS NOT NULL AND bucket >= $2 AND bucket < $3
         UNION ALL
         SELECT organization_id, api_key_id, requests FROM usage_rollups_day
         WHERE api_version = $1 AND api_key_id IS NOT NULL AND bucket >= $3
       ) AS r
       GROUP BY organization_id, api_key_id ORDER BY organization_id, api_key_id`,
      [version, hoursFrom, daysFrom],
    );
    return rows.map((row) => ({ ...row, requests: bigint(row.requests) }));
  }
}
