import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PollingLoop } from '../../common/polling-loop.js';
import { QueueConfig } from '../../config/config.classes.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import { ROLL_UP_PENDING } from './usage-logs.sql.js';

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
  private readonly loop = new PollingLoop(() => this.step(), ROLLUP_INTERVAL_MS);

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
   * One chunk of what is pending rolled up; true when the chunk was full (more is waiting).
   * Takes nothing while another process holds the step.
   */
  private async step(): Promise<boolean> {
    try {
      const taken = await maintenanceTransaction(this.dataSource, async (manager) => {
        const [lock] = await manager.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [ROLLUP_LOCK],
        );
        if (lock?.locked !== true) return 0;
        await manager.query(`SET LOCAL work_mem = '${ROLLUP_WORK_MEM}'`);
        const [row] = await manager.query<{ taken: number }[]>(ROLL_UP_PENDING, [
          ROLLUP_CHUNK_ROWS,
        ]);
        return row?.taken ?? 0;
      });
      return taken === ROLLUP_CHUNK_ROWS;
    } catch (error) {
      // The rows stay pending; the next step takes them.
      this.logger.warn(`usage rollup step failed: ${(error as Error).message}`);
      return false;
    }
  }
}
