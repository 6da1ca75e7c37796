import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventsConfig } from '../../config/config.classes.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import { dropPartitionsEndingBy } from '../../database/partitions.js';

const DAY_MS = 86_400_000;
/** The month partitions kept created ahead of now, so inserts never land in DEFAULT. */
const MONTHS_AHEAD = 2;
const TABLES = ['envelopes', 'events'] as const;

export interface EventsPurge {
  droppedPartitions: string[];
  /** Rows deleted from the DEFAULT partitions (and envelope_pending) past the cutoff. */
  deletedRows: number;
  deletedIssues: number;
}

/**
 * Keeps envelopes and events to EVENT_RETENTION_DAYS: drops the month partitions wholly
 * older than the cutoff (envelopes and their events together), deletes older rows from the
 * DEFAULT partitions, creates the next months' partitions, and deletes the issues left with
 * no events. Run hourly by the worker's retention queue.
 */
@Injectable()
export class EventsRetention {
  private readonly logger = new Logger('EventsRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: EventsConfig,
  ) {}

  async purge(now: Date = new Date()): Promise<EventsPurge> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const result = await maintenanceTransaction(this.dataSource, async (manager) => {
      const droppedPartitions: string[] = [];
      let deletedRows = 0;
      for (const table of TABLES) {
        droppedPartitions.push(...(await dropPartitionsEndingBy(manager, table, cutoff)));
        const [, rows] = await manager.query<[unknown, number]>(
          `DELETE FROM ${table}_default WHERE received_at < $1`,
          [cutoff],
        );
        deletedRows += rows;
      }
      const [, pending] = await manager.query<[unknown, number]>(
        'DELETE FROM envelope_pending WHERE received_at < $1',
        [cutoff],
      );
      deletedRows += pending;
      await manager.query(
        `SELECT ensure_month_partition(parent, (date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC')
           + make_interval(months => m))::date)
         FROM unnest($2::text[]) AS parent, generate_series(0, $3::int) AS m`,
        [now, TABLES, MONTHS_AHEAD],
      );
      // An issue whose last event is past the cutoff and has none left. The last_seen_at test
      // keeps an issue a worker is adding an event to right now (its update moves it past).
      const [, deletedIssues] = await manager.query<[unknown, number]>(
        `DELETE FROM event_issues i WHERE i.last_seen_at < $1
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.issue_id = i.id)`,
        [cutoff],
      );
      return { droppedPartitions, deletedRows, deletedIssues };
    });
    this.logger.log({ msg: 'events retention', cutoff: cutoff.toISOString(), ...result });
    return result;
  }
}
