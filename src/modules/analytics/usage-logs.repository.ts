import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { TenantScope } from '../../database/tenant-scope.js';
import type { UsageRecord } from '../usage/usage-record.js';
import { Conditions, bigint, rollupTable, segmentReads, type UsageFilter } from './rollup-sql.js';
import { planCount } from './usage-range.js';

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

/**
 * The raw usage log's readers: GET /api/v1/usage-logs and GET /api/v1/analytics/rate-limits,
 * tenant-scoped.
 */
@Injectable()
export class UsageLogsRepository {
  constructor(private readonly dataSource: DataSource) {}

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
    // One snapshot for the page and the total (a batch committed between two reads would make
    // them disagree): both read in one repeatable-read transaction, on one connection.
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const rows = await manager.query<UsageLogRow[]>(
        `SELECT id, created_at, method, path, route, status, response_time_ms, request_bytes,
           response_bytes, ip, user_agent, api_key_id, user_id, project_id, api_version,
           error_code, request_id
         FROM usage_logs WHERE ${where}
         ORDER BY created_at DESC, id DESC
         LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, page.limit, page.offset],
      );
      if (filter.request_id === undefined)
        return [rows, await this.countLogs(manager, scope, filter, now)];
      // The rollups know no request ids: counted row by row.
      const [counted] = await manager.query<{ total: string }[]>(
        `SELECT count(*) AS total FROM usage_logs WHERE ${where}`,
        params,
      );
      return [rows, bigint(counted?.total ?? 0)];
    });
  }

  /**
   * How many log rows match a filter the rollups have every column of, without reading them
   * all: the range is narrowed to the organization's first and last row in it (usage_logs
   * keeps the last USAGE_RETENTION_DAYS, the rollups longer), its whole buckets summed from
   * the rollups plus the rows still pending for them (usage_rollup_pending), its edges finer
   * than a bucket counted from usage_logs (planCount). Equal to count(*) over the same rows.
   */
  private async countLogs(
    manager: EntityManager,
    scope: TenantScope,
    filter: UsageLogFilter,
    now: Date,
  ): Promise<number> {
    const held = new Conditions().add((p) => `organization_id = ${p}`, scope.organizationId);
    if (filter.start !== undefined) held.add((p) => `created_at >= ${p}`, filter.start);
    if (filter.end !== undefined) held.add((p) => `created_at < ${p}`, filter.end);
    const [bounds] = await manager.query<{ first: Date | null; last: Date | null }[]>(
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
    // Rows of those buckets not rolled up yet (the rollups trail the log by about a second).
    // One statement, one snapshot: a row the rollup step moves is counted on one side only.
    const pending = plan.segments.map(({ start, end: until }) => {
      const from = conditions.add((p) => p, start).params.length;
      const to = conditions.add((p) => p, until).params.length;
      return `SELECT count(*) AS n FROM usage_rollup_pending
        WHERE ${shared} AND created_at >= $${from} AND created_at < $${to}`;
    });
    const [counted] = await manager.query<{ total: string | null }[]>(
      `SELECT sum(n) AS total
       FROM (${[...raw, ...rolled, ...pending].join(' UNION ALL ')}) AS pieces`,
      conditions.params,
    );
    return bigint(counted?.total ?? 0);
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
