import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { QueueConfig } from '../../config/config.classes.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import { ROLL_UP_PENDING } from './usage-logs.sql.js';

/** How often a worker adds the pending usage rows to the rollups. */
export const ROLLUP_INTERVAL_MS = 1_000;
/**
 * The most rows one step takes: a backlog is rolled up in transactions of this size (a few
 * seconds each at most), one after the other.
 */
export const ROLLUP_CHUNK_ROWS = 50_000;
/** Taken with pg_try_advisory_xact_lock: one step at a time across every worker process. */
const ROLLUP_LOCK = 0x6775_726f_6c6c; // "guroll"

/**
 * The second half of usage ingestion, in each worker process that consumes the `usage`
 * queue: every second, the rows usage_rollup_pending holds are taken out and added to the
 * rollups in one transaction (ROLL_UP_PENDING), so each row is rolled up exactly once, and a
 * second's batches are grouped before they are upserted. The rollups trail usage_logs by
 * about a second. Rows left pending when a worker stops are taken by the next step of any
 * worker, now or after a restart.
 */
@Injectable()
export class UsageRollups implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('UsageRollups');
  private timer: NodeJS.Timeout | undefined;
  private step: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('usage')) this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.step;
  }

  /**
   * Rolls up what is pending, chunk after chunk, until a chunk comes back short; returns the
   * rows rolled up (0 while another process holds the step).
   */
  async rollUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const taken = await maintenanceTransaction(this.dataSource, async (manager) => {
        const [lock] = await manager.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [ROLLUP_LOCK],
        );
        if (lock?.locked !== true) return 0;
        const [row] = await manager.query<{ taken: number }[]>(ROLL_UP_PENDING, [
          ROLLUP_CHUNK_ROWS,
        ]);
        return row?.taken ?? 0;
      });
      total += taken;
      if (taken < ROLLUP_CHUNK_ROWS || this.stopped) return total;
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.step = this.rollUp()
        .then(() => undefined)
        .catch((error: unknown) => {
          // The rows stay pending; the next step takes them.
          this.logger.warn(`usage rollup step failed: ${(error as Error).message}`);
        })
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, ROLLUP_INTERVAL_MS);
  }
}
