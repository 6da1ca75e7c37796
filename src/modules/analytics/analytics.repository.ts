import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../database/tenant-scope.js';
import { HISTOGRAM_COLUMNS } from '../usage/latency-histogram.js';
import { Conditions, bigint, rollupTable, segmentReads, type UsageFilter } from './rollup-sql.js';
import type { Interval, RollupSegment } from './usage-range.js';

export type { UsageFilter } from './rollup-sql.js';

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

/** One key's requests to an API version, from the rollups. */
export interface VersionCallsRow {
  organization_id: string;
  api_key_id: string;
  requests: number;
}

@Injectable()
export class AnalyticsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Sums per data point (the `interval` bucket, UTC) of the rollup rows of the segments, each
   * read from its own rollup (rollupSource) over [start, end); points without rows
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
         SELECT organization_id, api_key_id, requests FROM usage_hours
         WHERE api_version = $1 AND api_key_id IS NOT NULL AND bucket >= $2 AND bucket < $3
         UNION ALL
         SELECT organization_id, api_key_id, requests FROM usage_days
         WHERE api_version = $1 AND api_key_id IS NOT NULL AND bucket >= $3
       ) AS r
       GROUP BY organization_id, api_key_id ORDER BY organization_id, api_key_id`,
      [version, hoursFrom, daysFrom],
    );
    return rows.map((row) => ({ ...row, requests: bigint(row.requests) }));
  }
}
