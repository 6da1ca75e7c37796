import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import type { UsageRecord } from '../src/modules/usage/usage-record.js';
import { type BuiltProcess, killBuiltProcesses, startBuilt } from './support/built-process.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

const JOBS = 20;
const PER_JOB = 500;

describe('usage ingestion survives a worker killed mid-way', () => {
  let api: TestApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    api = await startApp();
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    killBuiltProcesses();
    await api.close();
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
    startBuilt('worker', [], { WORKER_QUEUES: 'usage', LOG_LEVEL: 'log' });

  const rows = async (organizationId: string): Promise<{ total: number; distinct: number }> => {
    const [row] = await dataSource.query<{ total: number; distinct: number }[]>(
      `SELECT count(*)::int AS total, count(DISTINCT request_id)::int AS "distinct"
       FROM usage_logs WHERE organization_id = $1`,
      [organizationId],
    );
    return row ?? { total: 0, distinct: 0 };
  };

  it('SIGKILL during ingestion, then a restart: every record once', async () => {
    const organizationId = randomUUID();
    const queue = api.app.get<Queue>(getQueueToken('usage'));
    const add = (jobs: number[]) =>
      queue.addBulk(
        jobs.map((job) => ({
          name: 'usage.record',
          data: { records: batches[job] ?? [] },
          opts: { jobId: randomUUID(), removeOnComplete: true },
        })),
      );
    const batches = Array.from({ length: JOBS }, (_, job) => batch(organizationId, job));
    const first = worker();
    // One batch goes in whole...
    await add([0]);
    await eventually(async () => expect((await rows(organizationId)).total).toBe(PER_JOB), 30_000);
    // ...then usage_logs is locked, so the worker is caught inside the next batch's insert.
    const lock = dataSource.createQueryRunner();
    await lock.startTransaction();
    await lock.query('LOCK TABLE usage_logs IN EXCLUSIVE MODE');
    await add(Array.from({ length: JOBS - 1 }, (_, job) => job + 1));
    await eventually(async () => {
      const [waiting] = await dataSource.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO usage_logs%'`,
      );
      expect(waiting?.count).toBeGreaterThan(0);
    }, 30_000);
    first.child.kill('SIGKILL');
    await first.exited();
    await lock.rollbackTransaction();
    await lock.release();
    expect((await rows(organizationId)).total).toBe(PER_JOB);
    // The batch already in is delivered again too (as when a worker dies after its commit).
    await add([0]);

    const second = worker();
    const final = await eventually(async () => {
      const counted = await rows(organizationId);
      expect(counted.total).toBe(JOBS * PER_JOB);
      return counted;
    }, 90_000);
    expect(final.distinct).toBe(JOBS * PER_JOB);
    // The rollups, written in the same statement as the rows, count each request once too.
    const rolledUp = await dataSource.query<{ requests: number; rate_limited: number }[]>(
      `SELECT sum(requests)::int AS requests, sum(rate_limited)::int AS rate_limited
       FROM usage_rollups_minute WHERE organization_id = $1`,
      [organizationId],
    );
    expect(rolledUp).toEqual([{ requests: JOBS * PER_JOB, rate_limited: (JOBS * PER_JOB) / 10 }]);
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  }, 150_000);
});
