import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PollingLoop } from '../../common/polling-loop.js';
import { QueueConfig } from '../../config/config.classes.js';
import { type EventRow, type StoredEnvelope, eventsOf } from './envelope-events.js';
import { type UpsertedIssue, addEnvelopeReceivedEvents } from './envelope-received.js';
import { IssueAlerts } from './issue-alerts.js';
import {
  DROP_OLDEST_PENDING,
  INSERT_EVENTS,
  TAKE_PENDING,
  UPSERT_ISSUES,
} from './events-step.sql.js';
import { isDataRefused } from '../../database/postgres-errors.js';

/** How long an idle worker waits before looking again: an event shows within a second. */
export const EVENTS_IDLE_MS = 250;
/** The most envelopes one step takes (one transaction). */
export const EVENTS_BATCH_ENVELOPES = 500;
/** Steps of one envelope refused for their data before that envelope is set aside. */
export const POISON_ATTEMPTS = 3;

interface PendingRow {
  envelope_id: string;
  received_at: Date;
  received_at_exact: string;
  organization_id: string | null;
  project_id: number | null;
  event_id: string | null;
  body: Buffer | null;
}

export interface EventsStepResult {
  envelopes: number;
  events: number;
  /** Issues this step opened: their first event was in it. */
  newIssues: { id: string; projectId: number; fingerprintHash: string }[];
}

/**
 * The worker's side of Sentry ingestion, in each worker process that serves `events`: every
 * step takes up to EVENTS_BATCH_ENVELOPES pending envelopes (SKIP LOCKED: several workers
 * share them), parses them and writes their events and issues, all in one transaction, so a
 * worker killed mid-step leaves its envelopes pending and an envelope is parsed once. A step
 * that fails is retried with half the envelopes, down to one. Each issue's `envelope.received`
 * webhook event (at most one a minute) is written to the outbox in the same transaction.
 */
@Injectable()
export class EventsStep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventsStep');
  private readonly loop = new PollingLoop(() => this.pass(), EVENTS_IDLE_MS);
  private batchSize = EVENTS_BATCH_ENVELOPES;
  /** Consecutive steps of one envelope that Postgres refused for their data. */
  private refusedAlone = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueConfig,
    private readonly alerts: IssueAlerts,
  ) {}

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('events')) this.loop.start(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One step; true when it was full (more is waiting) or failed (retried smaller, at once). */
  private async pass(): Promise<boolean> {
    const size = this.batchSize;
    try {
      const result = await this.step(size);
      await this.alerts.enqueue(result.newIssues.map((issue) => issue.id));
      this.batchSize = EVENTS_BATCH_ENVELOPES;
      this.refusedAlone = 0;
      return result.envelopes === size;
    } catch (error) {
      // The envelopes stay pending.
      this.logger.warn(`events step of ${size} envelopes failed: ${(error as Error).message}`);
      this.batchSize = Math.max(1, Math.floor(size / 2));
      if (size === 1 && isDataRefused(error)) await this.refused();
      return size > 1;
    }
  }

  /**
   * A step of the oldest envelope alone refused for its data: after POISON_ATTEMPTS in a row
   * its pending row is dropped (logged; the raw envelope stays), so it cannot stall the rest.
   */
  private async refused(): Promise<void> {
    this.refusedAlone += 1;
    if (this.refusedAlone < POISON_ATTEMPTS) return;
    this.refusedAlone = 0;
    try {
      const [dropped] = await this.dataSource.query<{ envelope_id: string }[]>(DROP_OLDEST_PENDING);
      if (dropped !== undefined)
        this.logger.error(`envelope ${dropped.envelope_id} set aside: its events were refused`);
    } catch (error) {
      this.logger.warn(`could not set an envelope aside: ${(error as Error).message}`);
    }
  }

  /** Parses up to `limit` pending envelopes into events and issues, in one transaction. */
  async step(limit = EVENTS_BATCH_ENVELOPES): Promise<EventsStepResult> {
    return this.dataSource.transaction(async (manager) => {
      const pending = await manager.query<PendingRow[]>(TAKE_PENDING, [limit]);
      const parsed = await Promise.all(pending.map((row) => this.eventsOfRow(row)));
      const rows = parsed.flat();
      const newIssues = rows.length === 0 ? [] : await this.write(manager, rows);
      return { envelopes: pending.length, events: rows.length, newIssues };
    });
  }

  /** A pending row's events; none (logged) when its envelope is gone or cannot be read. */
  private async eventsOfRow(row: PendingRow): Promise<EventRow[]> {
    if (row.body === null || row.organization_id === null || row.project_id === null) {
      this.logger.warn(`pending envelope ${row.envelope_id} has no stored envelope: dropped`);
      return [];
    }
    const envelope: StoredEnvelope = {
      id: row.envelope_id,
      receivedAt: row.received_at,
      receivedAtExact: row.received_at_exact,
      organizationId: row.organization_id,
      projectId: row.project_id,
      eventId: row.event_id,
      body: row.body,
    };
    try {
      return await eventsOf(envelope);
    } catch (error) {
      // Cannot happen through the ingest route (it parses before it stores); never retried.
      this.logger.warn(
        `stored envelope ${row.envelope_id} cannot be parsed, no events: ${(error as Error).message}`,
      );
      return [];
    }
  }

  private async write(manager: EntityManager, rows: EventRow[]) {
    const issues = new Map<string, IssueInput>();
    for (const row of rows) {
      const key = `${row.envelope.projectId}:${row.fingerprintHash}`;
      const receivedAt = row.envelope.receivedAt.toISOString();
      const receivedAtExact = row.envelope.receivedAtExact;
      const issue = issues.get(key);
      if (issue === undefined) {
        issues.set(key, {
          organization_id: row.envelope.organizationId,
          project_id: row.envelope.projectId,
          fingerprint_hash: row.fingerprintHash,
          fingerprint: row.fingerprint,
          title: row.title,
          level: row.level,
          first_seen_at: receivedAtExact,
          last_seen_at: receivedAtExact,
          sortKey: { first: receivedAt, last: receivedAt },
        });
      } else {
        if (receivedAt < issue.sortKey.first) {
          issue.sortKey.first = receivedAt;
          issue.first_seen_at = receivedAtExact;
        }
        if (receivedAt >= issue.sortKey.last) {
          issue.sortKey.last = receivedAt;
          issue.last_seen_at = receivedAtExact;
          issue.level = row.level;
        }
      }
    }
    const upserted = await manager.query<UpsertedIssue[]>(UPSERT_ISSUES, [
      JSON.stringify([...issues.values()]),
    ]);
    const issueIds = new Map(upserted.map((i) => [`${i.project_id}:${i.fingerprint_hash}`, i.id]));
    const events = rows.flatMap((row) => {
      const issueId = issueIds.get(`${row.envelope.projectId}:${row.fingerprintHash}`);
      return issueId === undefined ? [] : [eventRecord(row, issueId)];
    });
    if (events.length > 0) await manager.query(INSERT_EVENTS, [JSON.stringify(events)]);
    await addEnvelopeReceivedEvents(manager, upserted, rows);
    return upserted
      .filter((issue) => issue.created)
      .map((issue) => ({
        id: String(issue.id),
        projectId: issue.project_id,
        fingerprintHash: issue.fingerprint_hash,
      }));
  }
}

interface IssueInput {
  organization_id: string;
  project_id: number;
  fingerprint_hash: string;
  fingerprint: string[];
  title: string;
  level: string;
  first_seen_at: string;
  last_seen_at: string;
  /** ISO received_at of the first and last events (comparable as strings). */
  sortKey: { first: string; last: string };
}

function eventRecord(row: EventRow, issueId: string) {
  return {
    id: row.id,
    received_at: row.envelope.receivedAtExact,
    organization_id: row.envelope.organizationId,
    project_id: row.envelope.projectId,
    envelope_id: row.envelope.id,
    issue_id: issueId,
    timestamp: row.timestamp.toISOString(),
    level: row.level,
    message: row.message,
    exception_type: row.exceptionType,
    exception_value: row.exceptionValue,
    release: row.release,
    environment: row.environment,
    platform: row.platform,
    tags: row.tags,
    user_context: row.user,
    fingerprint: row.fingerprint,
  };
}
