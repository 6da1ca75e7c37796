import { Injectable } from '@nestjs/common';
import { CommonErrors } from '../../common/app-error.js';
import { type Page, page } from '../../common/envelope.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { addHistogram, emptyHistogram, percentileOf } from '../usage/latency-histogram.js';
import {
  REALTIME_METRICS,
  type RealtimeMetric,
  type RealtimeQuery,
  type RealtimeResponse,
} from './analytics.dto.js';
import type {
  TopEndpointsQuery,
  TopEndpointsResponse,
  UsageDataPoint,
  UsageQuery,
  UsageResponse,
} from './analytics.dto.js';
import type { UsageLogResponse, UsageLogsQuery } from './usage-logs.dto.js';
import { AnalyticsRepository, type UsagePointRow } from './analytics.repository.js';
import {
  type LimitEventRow,
  type UsageLogRow,
  UsageLogsRepository,
} from './usage-logs.repository.js';
import type {
  LimitType,
  RateLimitEvent,
  RateLimitEventsQuery,
  RateLimitEventsResponse,
} from './rate-limit-events.dto.js';
import { type Interval, REVERSED_RANGE, type UsagePlan, planUsage } from './usage-range.js';

const MINUTE_MS = 60_000;

/** Milliseconds to three decimals (microseconds), as usage_logs keeps them. */
const ms = (value: number | null): number | null =>
  value === null ? null : Math.round(value * 1000) / 1000;

const average = (sumMs: number, requests: number): number | null =>
  requests === 0 ? null : ms(sumMs / requests);

function toLogResponse(row: UsageLogRow): UsageLogResponse {
  return {
    id: row.id,
    created_at: row.created_at.toISOString(),
    method: row.method,
    path: row.path,
    route: row.route,
    status: row.status,
    response_time: row.response_time_ms,
    request_bytes: row.request_bytes,
    response_bytes: row.response_bytes,
    ip: row.ip,
    user_agent: row.user_agent,
    api_key_id: row.api_key_id,
    user_id: row.user_id,
    project_id: row.project_id,
    api_version: row.api_version,
    error_code: row.error_code,
    request_id: row.request_id,
  };
}

function toLimitEvent(row: LimitEventRow): RateLimitEvent {
  return {
    timestamp: row.created_at.toISOString(),
    user_id: row.user_id,
    api_key_id: row.api_key_id,
    method: row.method,
    endpoint: row.route,
    limit_type: row.limit_type as LimitType,
    limit_value: Number(row.limit_value),
    current_usage: Number(row.current_usage),
    request_id: row.request_id,
  };
}

function toDataPoint(timestamp: Date, row: UsagePointRow | undefined): UsageDataPoint {
  const requests = row?.requests ?? 0;
  return {
    timestamp: timestamp.toISOString(),
    requests,
    success_count: row?.success_count ?? 0,
    error_count: row?.error_count ?? 0,
    rate_limited: row?.rate_limited ?? 0,
    quota_exceeded: row?.quota_exceeded ?? 0,
    average_response_time: average(row?.response_time_sum_ms ?? 0, requests),
    p95:
      row === undefined
        ? null
        : ms(percentileOf(row.latency_histogram, 0.95, row.response_time_max_ms)),
  };
}

/** The range asked, planned over the rollups; a 400 naming the field when it cannot be. */
function planOrFail(
  query: { start_date?: string; end_date?: string },
  interval: Interval,
  now: Date,
): UsagePlan {
  const planned = planUsage(
    {
      start: query.start_date === undefined ? undefined : new Date(query.start_date),
      end: query.end_date === undefined ? undefined : new Date(query.end_date),
      interval,
    },
    now,
  );
  if ('errors' in planned) throw CommonErrors.validation(planned.errors);
  return planned.plan;
}

/**
 * Usage analytics, answered from the rollups (never the raw log), and the raw usage log.
 * Everything is confined to the caller's organization.
 */
@Injectable()
export class AnalyticsService {
  constructor(
    private readonly analytics: AnalyticsRepository,
    private readonly usageLogs: UsageLogsRepository,
  ) {}

  async usage(
    ctx: AuthenticatedContext,
    query: UsageQuery,
    now = new Date(),
  ): Promise<UsageResponse> {
    const plan = planOrFail(query, query.interval, now);
    const scope = tenantOf(ctx);
    await this.assertOwnKey(scope, query.api_key_id);
    const rows = await this.analytics.usagePoints(scope, plan.interval, plan.segments, query);
    const byPoint = new Map(rows.map((row) => [row.point.getTime(), row]));
    const histogram = emptyHistogram();
    const totals = {
      requests: 0,
      success: 0,
      errors: 0,
      rateLimited: 0,
      quota: 0,
      sumMs: 0,
      maxMs: 0,
    };
    for (const row of rows) {
      totals.requests += row.requests;
      totals.success += row.success_count;
      totals.errors += row.error_count;
      totals.rateLimited += row.rate_limited;
      totals.quota += row.quota_exceeded;
      totals.sumMs += row.response_time_sum_ms;
      totals.maxMs = Math.max(totals.maxMs, row.response_time_max_ms);
      addHistogram(histogram, row.latency_histogram);
    }
    const rate = (count: number) => (totals.requests === 0 ? null : count / totals.requests);
    return {
      start_date: plan.start.toISOString(),
      end_date: plan.end.toISOString(),
      interval: plan.interval,
      total_requests: totals.requests,
      success_rate: rate(totals.success),
      error_rate: rate(totals.errors),
      rate_limited: totals.rateLimited,
      quota_exceeded: totals.quota,
      average_response_time: average(totals.sumMs, totals.requests),
      p50: ms(percentileOf(histogram, 0.5, totals.maxMs)),
      p95: ms(percentileOf(histogram, 0.95, totals.maxMs)),
      p99: ms(percentileOf(histogram, 0.99, totals.maxMs)),
      data_points: plan.points.map((point) => toDataPoint(point, byPoint.get(point.getTime()))),
    };
  }

  /** The busiest routes over a range (the range as `/usage` plans it), from the rollups. */
  async topEndpoints(
    ctx: AuthenticatedContext,
    query: TopEndpointsQuery,
    now = new Date(),
  ): Promise<TopEndpointsResponse> {
    const plan = planOrFail(query, 'month', now);
    const rows = await this.analytics.topEndpoints(
      tenantOf(ctx),
      plan.segments,
      query,
      query.limit,
    );
    return {
      start_date: plan.start.toISOString(),
      end_date: plan.end.toISOString(),
      endpoints: rows.map((row) => ({
        method: row.method,
        endpoint: row.route,
        requests: row.requests,
        error_count: row.error_count,
        error_rate: row.requests === 0 ? null : row.error_count / row.requests,
        average_response_time: average(row.response_time_sum_ms, row.requests),
        p95: ms(percentileOf(row.latency_histogram, 0.95, row.response_time_max_ms)),
      })),
    };
  }

  /**
   * The refused requests (429s) over a range (as `/usage` plans it), newest first, read from
   * the usage log: total_events counts the same rows the pages list. Another organization's
   * key is a 404, as for /keys/{id}/usage.
   */
  async rateLimits(
    ctx: AuthenticatedContext,
    query: RateLimitEventsQuery,
    now = new Date(),
  ): Promise<RateLimitEventsResponse> {
    const plan = planOrFail(query, 'month', now);
    const scope = tenantOf(ctx);
    await this.assertOwnKey(scope, query.api_key_id);
    const [rows, total] = await this.usageLogs.listLimitEvents(
      scope,
      { start: plan.start, end: plan.end, api_key_id: query.api_key_id, user_id: query.user_id },
      query,
    );
    return {
      start_date: plan.start.toISOString(),
      end_date: plan.end.toISOString(),
      total_events: total,
      limit: query.limit,
      offset: query.offset,
      events: rows.map(toLimitEvent),
    };
  }

  /** Counts over the last `window` minutes (widened to whole minutes), the metrics asked. */
  async realtime(
    ctx: AuthenticatedContext,
    query: RealtimeQuery,
    now = new Date(),
  ): Promise<RealtimeResponse> {
    const minutes = Number(query.window.slice(0, -1));
    const start = new Date(
      Math.floor((now.getTime() - minutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS,
    );
    const asked = new Set(query.metrics.split(',') as RealtimeMetric[]);
    const counts = await this.analytics.realtime(
      tenantOf(ctx),
      start,
      asked.has('active_keys') || asked.has('active_users'),
    );
    const answer: RealtimeResponse = {
      window: query.window,
      start_date: start.toISOString(),
      end_date: now.toISOString(),
    };
    for (const metric of REALTIME_METRICS) if (asked.has(metric)) answer[metric] = counts[metric];
    return answer;
  }

  async logs(ctx: AuthenticatedContext, query: UsageLogsQuery): Promise<Page<UsageLogResponse>> {
    const start = query.start_date === undefined ? undefined : new Date(query.start_date);
    const end = query.end_date === undefined ? undefined : new Date(query.end_date);
    // As the analytics say it: an empty or reversed range is a mistake, not "no requests".
    if (start !== undefined && end !== undefined && end <= start) {
      throw CommonErrors.validation([REVERSED_RANGE]);
    }
    const [rows, total] = await this.usageLogs.listLogs(
      tenantOf(ctx),
      { ...query, start, end },
      query,
    );
    return page(rows.map(toLogResponse), total, query);
  }

  /** A key filter naming no key of the caller's organization (another's, none) is a 404. */
  private async assertOwnKey(scope: TenantScope, keyId: string | undefined): Promise<void> {
    if (keyId !== undefined && !(await this.usageLogs.isOwnKey(scope, keyId)))
      throw CommonErrors.notFound('API key');
  }
}
