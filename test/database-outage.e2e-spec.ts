import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { withAdminClient } from './support/test-env.js';
import { eventually } from './support/wait.js';

/**
 * Postgres refuses connections and comes back (issue 9, section 5): calls that need it answer
 * 503 SERVICE_UNAVAILABLE with Retry-After, quickly, and the api recovers by itself. On a
 * database of its own, so the other suites of the run are not affected.
 */
describe('the database refusing connections', () => {
  let database: string;
  let isolated: IsolatedDatabase;
  let api: TestApp;
  let owner: Account;

  const allowConnections = (allow: boolean) =>
    withAdminClient(async (client) => {
      await client.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS ${allow}`);
      if (!allow) {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1',
          [database],
        );
      }
    });

  beforeAll(async () => {
    isolated = await isolatedDatabase('outage');
    database = isolated.name;
    api = await startApp({ env: { DATABASE_URL: isolated.url } });
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await allowConnections(true);
    await api.close();
    await isolated.drop();
  });

  const listProjects = () => api.call('/api/v1/projects', as(owner, 'GET'));

  it('answers 503 with Retry-After while it refuses, and 200 again once it is back', async () => {
    expect((await listProjects()).status).toBe(200);

    await allowConnections(false);
    const requests: [string, () => Promise<Response>][] = [
      ['read', listProjects],
      ['write', () => api.call('/api/v1/projects', as(owner, 'POST', { name: 'during outage' }))],
      [
        'login',
        () =>
          api.call(
            '/api/v1/auth/login',
            json('POST', { login: owner.username, password: 'whatever it is' }),
          ),
      ],
    ];
    for (const [, request] of requests) {
      const started = Date.now();
      const response = await request();
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(body.error.message).not.toContain(database);
    }
    expect((await api.call('/health/live')).status).toBe(200);
    expect((await api.call('/health/ready')).status).toBe(503);

    await allowConnections(true);
    await eventually(async () => {
      expect((await listProjects()).status).toBe(200);
    });
    const created = await api.call('/api/v1/projects', as(owner, 'POST', { name: 'after' }));
    expect(created.status).toBe(201);
  });
});
