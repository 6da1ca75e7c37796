import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { type BuiltProcess, killBuiltProcesses, startBuilt } from './support/built-process.js';
import { eventEnvelope, storeEnvelope } from './support/envelopes.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

const ENVELOPES = 60;

describe('envelope parsing survives a worker killed mid-step', () => {
  let api: TestApp;
  let dataSource: DataSource;
  let isolated: IsolatedDatabase;
  let owner: Account;
  // A database of its own: the table this spec locks holds up no other spec's worker.
  let env: Record<string, string>;

  beforeAll(async () => {
    isolated = await isolatedDatabase('eventscrash');
    env = {
      DATABASE_URL: isolated.url,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-eventscrash`,
    };
    api = await startApp({ env });
    dataSource = api.app.get(DataSource);
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    killBuiltProcesses();
    await api.close();
    await isolated.drop();
  });

  const worker = (): BuiltProcess =>
    startBuilt('worker', [], { ...env, WORKER_QUEUES: 'events', LOG_LEVEL: 'log' });

  const count = async (sql: string, params: unknown[]): Promise<number> => {
    const [row] = await dataSource.query<{ n: number }[]>(sql, params);
    return row?.n ?? -1;
  };

  it('SIGKILL inside the step, then a restart: every envelope parsed once', async () => {
    const created = await api.call('/api/v1/projects', as(owner, 'POST', { name: 'Crash' }));
    const projectId = ((await created.json()) as { data: { id: number } }).data.id;
    for (let i = 0; i < ENVELOPES; i += 1) {
      await storeEnvelope(dataSource, {
        organizationId: owner.organizationId,
        projectId,
        body: eventEnvelope({ message: `crash ${i % 3}`, level: 'error' }),
      });
    }
    // event_issues locked: the worker's step waits inside its transaction, the pending rows
    // already deleted in it.
    const lock = dataSource.createQueryRunner();
    await lock.startTransaction();
    await lock.query('LOCK TABLE event_issues IN EXCLUSIVE MODE');
    const first = worker();
    await eventually(async () => {
      const waiting = await count(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND strpos(query, 'INSERT INTO event_issues') > 0`,
        [],
      );
      expect(waiting).toBeGreaterThan(0);
    }, 30_000);
    first.child.kill('SIGKILL');
    await first.exited();
    await lock.rollbackTransaction();
    await lock.release();

    const pending = 'SELECT count(*)::int AS n FROM envelope_pending';
    expect(await count(pending, [])).toBe(ENVELOPES);
    const events = 'SELECT count(*)::int AS n FROM events WHERE project_id = $1';
    expect(await count(events, [projectId])).toBe(0);

    const second = worker();
    await eventually(async () => expect(await count(events, [projectId])).toBe(ENVELOPES), 60_000);
    expect(await count(pending, [])).toBe(0);
    const issues = await dataSource.query<{ title: string; event_count: string }[]>(
      'SELECT title, event_count FROM event_issues WHERE project_id = $1 ORDER BY title',
      [projectId],
    );
    expect(issues.map((issue) => [issue.title, Number(issue.event_count)])).toEqual([
      ['crash 0', ENVELOPES / 3],
      ['crash 1', ENVELOPES / 3],
      ['crash 2', ENVELOPES / 3],
    ]);
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  }, 120_000);
});
