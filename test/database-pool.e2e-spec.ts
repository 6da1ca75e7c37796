import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AuditRetention } from '../src/modules/audit/audit-retention.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type One, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { withAdminClient } from './support/test-env.js';
import { eventually } from './support/wait.js';

const POOL_SIZE = 3;
const STATEMENT_TIMEOUT_MS = 1_500;

/**
 * DATABASE_POOL_SIZE and DATABASE_STATEMENT_TIMEOUT_MS (issue 14) on the api's own connections:
 * the pool never opens more than its size, every session has the timeout, a request whose
 * statement runs past it is a 503 the client may retry, and the retention purges are exempt.
 * On a database of its own, so the connections counted and the locks taken are this suite's.
 */
describe('the database pool and statement timeout', () => {
  let isolated: IsolatedDatabase;
  let api: TestApp;
  let db: DataSource;
  let owner: Account;
  /** A connection of the test's own, to hold locks the app's statements must wait for. */
  let holder: pg.Client;

  beforeAll(async () => {
    isolated = await isolatedDatabase('pool');
    api = await startApp({
      env: {
        DATABASE_URL: isolated.url,
        DATABASE_POOL_SIZE: String(POOL_SIZE),
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      },
    });
    db = api.app.get(DataSource);
    owner = await registerOwner(api);
    holder = new pg.Client({ connectionString: isolated.url });
    await holder.connect();
  });

  afterAll(async () => {
    await holder?.end();
    await api?.close();
    await isolated?.drop();
  });

  it('opens at most DATABASE_POOL_SIZE connections, each with the statement timeout', async () => {
    // More queries at once than the pool holds, each keeping its connection a moment.
    const sessions = await Promise.all(
      Array.from({ length: POOL_SIZE * 3 }, () =>
        db.query<{ pid: number; timeout: string }[]>(
          "SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout, pg_sleep(0.2)",
        ),
      ),
    );
    const rows = sessions.flat();
    expect(new Set(rows.map((row) => row.pid)).size).toBe(POOL_SIZE);
    expect(new Set(rows.map((row) => row.timeout))).toEqual(new Set(['1500ms']));
    const { rows: open } = await holder.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 AND application_name = 'gatehouse'",
      [isolated.name],
    );
    expect(open[0]?.count).toBe(POOL_SIZE);
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After when a statement runs past the timeout', async () => {
    const created = await api.call('/api/v1/projects', as(owner, 'POST', { name: 'locked' }));
    const { id } = (await expectStatus<One<{ id: number }>>(created, 201)).data;
    const rename = (name: string) =>
      api.call(`/api/v1/projects/${id}`, as(owner, 'PATCH', { name }));

    // The update locks the project's row first: it waits for the test's lock until cancelled.
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [id]);
    const started = Date.now();
    const refused = await rename('renamed while locked');
    const waited = Date.now() - started;
    await holder.query('ROLLBACK');

    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const text = await refused.text();
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 'SERVICE_UNAVAILABLE',
        message: 'The database did not answer in time; retry shortly',
        details: null,
        request_id: refused.headers.get('x-request-id'),
      },
    });
    expect(text).not.toMatch(/select|update|projects|statement/i);
    // Cancelled by the statement timeout, well before the request's own 30 s (504).
    expect(waited).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(10_000);

    // Nothing was written; the retry goes through.
    const renamed = await rename('renamed');
    expect((await expectStatus<One<{ name: string }>>(renamed, 200)).data.name).toBe('renamed');
  });

  it('runs the retention purge without the statement timeout', async () => {
    // The purge's DELETE needs the table in ROW EXCLUSIVE mode, which SHARE blocks.
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE audit_log IN SHARE MODE');
    const purge = new AuditRetention(db, { retentionDays: 90 }).purge();
    // Asked on a connection of its own: inside the holder's transaction, pg_stat_activity
    // would stay the snapshot its first read took.
    const waitingPastTimeout = eventually(async () => {
      const { rows } = await withAdminClient((client) =>
        client.query<{ waiting: boolean }>(
          `SELECT true AS waiting FROM pg_stat_activity
           WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM audit_log%'
             AND now() - query_start > make_interval(secs => $2)`,
          [isolated.name, (2 * STATEMENT_TIMEOUT_MS) / 1000],
        ),
      );
      expect(rows).toHaveLength(1);
    });
    // A purge that ends while the table is locked was cancelled: its error is the failure.
    await Promise.race([
      waitingPastTimeout,
      purge.then(() => {
        throw new Error('the purge ended while audit_log was locked');
      }),
    ]);
    await holder.query('ROLLBACK');
    await expect(purge).resolves.toMatchObject({ deletedRows: 0 });
  });
});
