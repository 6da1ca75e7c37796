import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PollingLoop } from '../../common/polling-loop.js';
import { QueueConfig } from '../../config/config.classes.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import { FOLD_HOUR, ROLL_UP_PENDING } from './usage-logs.sql.js';

/** How often a worker adds the pending usage rows to the rollups. */
export const ROLLUP_INTERVAL_MS = 1_000;
/**
 * The most rows one step takes: a backlog is rolled up in transactions of this size (a few
 * seconds each at most), one after the other. Larger steps group more rows per rollup row:
 * 100,000 rows of one minute of busy traffic took ~1.25 s in one step, ~1.85 s in two steps
 * of 50,000 and ~3.2 s in four of 25,000.
 */
export const ROLLUP_CHUNK_ROWS = 100_000;
/**
 * How long no batch must arrive before the rows it left pending are rolled up, instead of
 * waiting out ROLLUP_INTERVAL_MS: the end of a burst is in the rollups at once, while steady
 * traffic is still rolled up once a second.
 */
export const ROLLUP_QUIET_MS = 100;
/**
 * The step's sort and hash memory (SET LOCAL): at Postgres' default 4 MB a 50,000-row step's
 * grouping (rows of 60 columns) spills to disk; 64 MB holds a full step's. One step runs at a time across every worker,
 * so this is held once.
 */
const ROLLUP_WORK_MEM = '64MB';
/**
 * How long after an hour ends it is folded into the hour and day rollups (FOLD_HOUR): batches
 * of its last seconds still on their way then arrive before, and are not late rows (which the
 * step adds to the coarse rollups one by one). Not needed for correctness.
 */
export const FOLD_GRACE_MS = 2 * 60_000;
const HOUR_MS = 3_600_000;
/** Taken with pg_try_advisory_xact_lock: one step at a time across every worker process. */
const ROLLUP_LOCK = 0x6775_726f_6c6c; // "guroll"

/** ROLLUP_WORK_MEM for the rest of the step's transaction. */
async function useRollupMemory(manager: EntityManager): Promise<void> {
  await manager.query(`SET LOCAL work_mem = '${ROLLUP_WORK_MEM}'`);
}

/**
 * The second half of usage ingestion, in each worker process that consumes the `usage`
 * queue: every second, the rows usage_rollup_pending holds are taken out and added to the
 * minute rollups in one transaction (ROLL_UP_PENDING), so each row is rolled up exactly once,
 * and a second's batches are grouped before they are upserted. In the same transaction, an
 * hour that has ended is folded from the minute rollups into the hour and day rollups
 * (FOLD_HOUR); readers see the minutes after it through the usage_hours, usage_days, ...
 * views. The rollups trail usage_logs by about a second. Rows left pending when a worker
 * stops are taken by the next step of any worker, now or after a restart.
 */
@Injectable()
export class UsageRollups implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('UsageRollups');
  private readonly loop = new PollingLoop(() => this.step(new Date()), ROLLUP_INTERVAL_MS);

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.queues.workerQueues.includes('usage')) this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** A batch's rows were added to usage_rollup_pending: rolled up once batches pause. */
  pendingAdded(): void {
    this.loop.wake(ROLLUP_QUIET_MS);
  }

  /**
   * One chunk of what is pending rolled up, and the hour after the mark folded if it ended
   * FOLD_GRACE_MS before `now`; true when there is more to do at once (the chunk was full, or
   * an hour was folded and the next may be due). Does nothing while another process holds the
   * step. Public for the specs, which fold with a `now` of their own.
   */
  async step(now: Date): Promise<boolean> {
    try {
      return await maintenanceTransaction(this.dataSource, async (manager) => {
        const [lock] = await manager.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [ROLLUP_LOCK],
        );
        if (lock?.locked !== true) return false;
        const taken = await this.rollUpPending(manager);
        const folded = await this.foldDue(manager, now);
        return taken === ROLLUP_CHUNK_ROWS || folded;
      });
    } catch (error) {
      // The rows stay pending, the hour unfolded; the next step takes them.
      this.logger.warn(`usage rollup step failed: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Up to ROLLUP_CHUNK_ROWS pending rows rolled up; how many. Nothing pending (an idle
   * installation, every second) is found by a look at the table: planning ROLL_UP_PENDING
   * alone cost Postgres 15-50 ms a step. A row added just after the look waits for the next
   * step, as one added after the DELETE would.
   */
  private async rollUpPending(manager: EntityManager): Promise<number> {
    const [queue] = await manager.query<{ pending: boolean }[]>(
      'SELECT EXISTS (SELECT FROM usage_rollup_pending) AS pending',
    );
    if (queue?.pending !== true) return 0;
    await useRollupMemory(manager);
    const [row] = await manager.query<{ taken: number }[]>(ROLL_UP_PENDING, [ROLLUP_CHUNK_ROWS]);
    return row?.taken ?? 0;
  }

  /**
   * The hour after the mark folded if it ended FOLD_GRACE_MS before `now`; whether it was.
   * The mark is read first, a row: the fold's statement runs only when an hour is due, with
   * the mark as a constant, so it reads that hour's minute partition and nothing else.
   */
  private async foldDue(manager: EntityManager, now: Date): Promise<boolean> {
    const [mark] = await manager.query<{ folded_until: Date }[]>(
      'SELECT folded_until FROM usage_rollup_folds',
    );
    if (mark === undefined) return false;
    if (mark.folded_until.getTime() + HOUR_MS > now.getTime() - FOLD_GRACE_MS) return false;
    await useRollupMemory(manager);
    const [fold] = await manager.query<{ folded_until: Date | null }[]>(FOLD_HOUR, [
      mark.folded_until,
    ]);
    if (fold?.folded_until == null) throw new Error('the fold mark moved during the step');
    return true;
  }
}
