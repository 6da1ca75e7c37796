import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import type { UsageRecord } from '../src/modules/usage/usage-record.js';
import { type BuiltProcess, killBuiltProcesses, startBuilt } from './support/built-process.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

const JOBS = 20;
const PER_JOB = 500;

describe('usage ingestion survives a worker killed mid-way', () => {
  let api: TestApp;
  let dataSource: DataSource;
  let isolated: IsolatedDatabase;
  // A database and queues of its own: the tables this spec locks, and the workers it kills,
  // hold up no other spec's usage pipeline, and no other spec's worker takes its batches.
  let env: Record<string, string>;

  beforeAll(async () => {
    isolated = await isolatedDatabase('usagecrash');
    env = {
      DATABASE_URL: isolated.url,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-usagecrash`,
    };
    api = await startApp({ env });
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    killBuiltProcesses();
    await api.close();
    await isolated.drop();
  });

  function batch(organizationId: string, job: number): UsageRecord[] {
    const now = Date.now();
    return Array.from({ length: PER_JOB }, (_, i) => ({
      id: randomUUID(),
      created_at: new Date(now - i).toISOString(),
      organization_id: organizationId,
      api_key_id: randomUUID(),
      user_id: null,
      project_id: null,
      method: 'GET',
      path: `/api/v1/projects/${i}`,
      route: '/api/v1/projects/:id',
      status: i % 10 === 0 ? 429 : 200,
      response_time_ms: (i % 50) + 0.25,
      request_bytes: 0,
      response_bytes: 321,
      ip: '127.0.0.1',
      user_agent: 'crash-spec',
      api_version: 'v1',
      error_code: i % 10 === 0 ? 'RATE_LIMIT_EXCEEDED' : null,
      request_id: `crash-${job}-${i}`,
      limit_type: i % 10 === 0 ? 'minute' : null,
      limit_value: i % 10 === 0 ? 100 : null,
      current_usage: i % 10 === 0 ? 100 : null,
    }));
  }

  const worker = (): BuiltProcess =>
    startBuilt('worker', [], { ...env, WORKER_QUEUES: 'usage', LOG_LEVEL: 'log' });

  const rows = async (organizationId: string): Promise<{ total: number; distinct: number }> => {
    const [row] = await dataSource.query<{ total: number; distinct: number }[]>(
      `SELECT count(*)::int AS total, count(DISTINCT request_id)::int AS "distinct"
       FROM usage_logs WHERE organization_id = $1`,
      [organizationId],
    );
    return row ?? { total: 0, distinct: 0 };
  };

  const rolledUp = async (organizationId: string) => {
    const [row] = await dataSource.query<{ requests: number; rate_limited: number }[]>(
      `SELECT coalesce(sum(requests), 0)::int AS requests,
         coalesce(sum(rate_limited), 0)::int AS rate_limited
       FROM usage_rollups_minute WHERE organization_id = $1`,
      [organizationId],
    );
    return row;
  };

  const queue = () => api.app.get<Queue>(getQueueToken('usage'));
  const add = (batches: UsageRecord[][]) =>
    queue().addBulk(
      batches.map((records) => ({
        name: 'usage.record' as const,
        data: { records },
        opts: { jobId: randomUUID(), removeOnComplete: true },
      })),
    );

  /** Holds `table` locked in a transaction of its own until the returned function is called. */
  async function locked(table: string): Promise<() => Promise<void>> {
    const lock = dataSource.createQueryRunner();
    await lock.startTransaction();
    await lock.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
    return async () => {
      await lock.rollbackTransaction();
      await lock.release();
    };
  }

  /** Until a statement holding `text` waits for a lock. */
  const waitingOn = (text: string) =>
    eventually(async () => {
      const [waiting] = await dataSource.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
        [text],
      );
      expect(waiting?.count).toBeGreaterThan(0);
    }, 30_000);

  it('SIGKILL during ingestion, then a restart: every record once', async () => {
    const organizationId = randomUUID();
    const batches = Array.from({ length: JOBS }, (_, job) => batch(organizationId, job));
    const first = worker();
    // One batch goes in whole...
    await add(batches.slice(0, 1));
    await eventually(async () => expect((await rows(organizationId)).total).toBe(PER_JOB), 30_000);
    // ...then usage_logs is locked, so the worker is caught inside the next batch's COPY.
    const unlock = await locked('usage_logs');
    await add(batches.slice(1));
    await waitingOn('COPY usage_logs');
    first.child.kill('SIGKILL');
    await first.exited();
    await unlock();
    expect((await rows(organizationId)).total).toBe(PER_JOB);
    // The batch already in is delivered again too (as when a worker dies after its commit):
    // its COPY meets its own rows, and the insert that follows skips them.
    await add(batches.slice(0, 1));

    const second = worker();
    const final = await eventually(async () => {
      const counted = await rows(organizationId);
      expect(counted.total).toBe(JOBS * PER_JOB);
      return counted;
    }, 90_000);
    expect(final.distinct).toBe(JOBS * PER_JOB);
    // The rollups, fed from the rows each transaction inserted, count each request once too.
    await eventually(async () =>
      expect(await rolledUp(organizationId)).toEqual({
        requests: JOBS * PER_JOB,
        rate_limited: (JOBS * PER_JOB) / 10,
      }),
    );
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  }, 150_000);

  it('SIGKILL during a rollup step, then a restart: every record rolled up once', async () => {
    const organizationId = randomUUID();
    const batches = Array.from({ length: 4 }, (_, job) => batch(organizationId, job));
    // The minute rollups locked: the worker ingests, and its rollup step waits inside its
    // transaction, the pending rows already deleted in it.
    const unlock = await locked('usage_rollups_minute');
    const first = worker();
    await add(batches);
    await eventually(async () => expect((await rows(organizationId)).total).toBe(4 * PER_JOB));
    await waitingOn('DELETE FROM usage_rollup_pending');
    first.child.kill('SIGKILL');
    await first.exited();
    await unlock();
    expect(await rolledUp(organizationId)).toEqual({ requests: 0, rate_limited: 0 });

    const second = worker();
    await eventually(async () =>
      expect(await rolledUp(organizationId)).toEqual({
        requests: 4 * PER_JOB,
        rate_limited: (4 * PER_JOB) / 10,
      }),
    );
    const [pending] = await dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM usage_rollup_pending WHERE organization_id = $1',
      [organizationId],
    );
    expect(pending?.count).toBe(0);
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  }, 120_000);
});
