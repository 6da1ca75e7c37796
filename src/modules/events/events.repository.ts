import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import { SqlConditions } from '../../database/sql-conditions.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import type { EventsQuery } from './events.dto.js';

/** An `events` row as the reads select it. */
export interface EventRecord {
  id: string;
  project_id: number;
  issue_id: string;
  envelope_id: string;
  received_at: Date;
  timestamp: Date;
  level: string | null;
  message: string | null;
  exception_type: string | null;
  exception_value: string | null;
  release: string | null;
  environment: string | null;
  platform: string | null;
  tags: Record<string, string>;
  user_context: object | null;
  fingerprint: string[];
}

export interface IssueRecord {
  id: string;
  project_id: number;
  title: string;
  level: string | null;
  fingerprint: string[];
  event_count: string;
  first_seen_at: Date;
  last_seen_at: Date;
}

const EVENT_COLUMNS = `id, project_id, issue_id, envelope_id, received_at, timestamp, level,
  message, exception_type, exception_value, release, environment, platform, tags, user_context,
  fingerprint`;

/** `text` matched literally by LIKE: its wildcards and the escape character escaped. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** The reads of Sentry events and issues; the worker's EventsStep writes them. */
@Injectable()
export class EventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async projectExists(scope: TenantScope, projectId: number): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM projects WHERE organization_id = $1 AND id = $2',
      [scope.organizationId, projectId],
    );
    return rows.length > 0;
  }

  /** The organization's events (or one project's), newest received first, filtered as asked. */
  async listEvents(
    scope: TenantScope,
    projectId: number | null,
    query: EventsQuery,
  ): Promise<[EventRecord[], number]> {
    const conditions = new SqlConditions().add(
      (p) => `organization_id = ${p}`,
      scope.organizationId,
    );
    if (projectId !== null) conditions.add((p) => `project_id = ${p}`, projectId);
    if (query.level !== undefined) conditions.add((p) => `level = ${p}`, query.level);
    if (query.release !== undefined) conditions.add((p) => `release = ${p}`, query.release);
    if (query.environment !== undefined)
      conditions.add((p) => `environment = ${p}`, query.environment);
    if (query.start_time !== undefined)
      conditions.add((p) => `received_at >= ${p}`, new Date(query.start_time));
    if (query.end_time !== undefined)
      conditions.add((p) => `received_at < ${p}`, new Date(query.end_time));
    if (query.q !== undefined)
      conditions.add(
        (p) => `(message ILIKE ${p} OR exception_value ILIKE ${p})`,
        `%${likeLiteral(query.q)}%`,
      );
    return this.pageAndTotal<EventRecord>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${conditions.where}
       ORDER BY received_at DESC, id DESC`,
      'events',
      conditions,
      query,
    );
  }

  /** The event (its latest copy, if an SDK sent it twice) and its envelope's body. */
  async findEvent(
    scope: TenantScope,
    id: string,
  ): Promise<{ event: EventRecord; body: Buffer | null } | null> {
    const [event] = await this.dataSource.query<(EventRecord & { received_at_exact: string })[]>(
      `SELECT ${EVENT_COLUMNS}, received_at::text AS received_at_exact FROM events
       WHERE organization_id = $1 AND id = $2 ORDER BY received_at DESC LIMIT 1`,
      [scope.organizationId, id],
    );
    if (event === undefined) return null;
    const [envelope] = await this.dataSource.query<{ body: Buffer }[]>(
      `SELECT body FROM envelopes
       WHERE organization_id = $1 AND received_at = $2::timestamptz AND id = $3`,
      [scope.organizationId, event.received_at_exact, event.envelope_id],
    );
    return { event, body: envelope?.body ?? null };
  }

  /** A project's issues, last seen first. */
  async listIssues(
    scope: TenantScope,
    projectId: number,
    page: PageQuery,
  ): Promise<[IssueRecord[], number]> {
    const conditions = new SqlConditions()
      .add((p) => `organization_id = ${p}`, scope.organizationId)
      .add((p) => `project_id = ${p}`, projectId);
    return this.pageAndTotal<IssueRecord>(
      `SELECT id, project_id, title, level, fingerprint, event_count, first_seen_at, last_seen_at
       FROM event_issues WHERE ${conditions.where}
       ORDER BY last_seen_at DESC, id DESC`,
      'event_issues',
      conditions,
      page,
    );
  }

  /**
   * A page of `select` and how many rows of `table` match, read in one repeatable-read
   * transaction (one snapshot, as GET /usage-logs does): rows committed between two reads
   * would make the page and the total disagree.
   */
  private pageAndTotal<Row>(
    select: string,
    table: string,
    conditions: SqlConditions,
    page: PageQuery,
  ): Promise<[Row[], number]> {
    const { params, where } = conditions;
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const rows = await manager.query<Row[]>(
        `${select} LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, page.limit, page.offset],
      );
      const [count] = await manager.query<{ total: string }[]>(
        `SELECT count(*) AS total FROM ${table} WHERE ${where}`,
        params,
      );
      return [rows, Number(count?.total ?? 0)];
    });
  }
}
