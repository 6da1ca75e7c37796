import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type LocalCluster, startLocalCluster } from './support/redis-cluster.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

/**
 * A Redis Cluster master dies under two api processes: while its replica takes over,
 * RATE_LIMIT_FAILURE_MODE decides (open admits, closed answers 503) and readiness says Redis
 * is down; once the replica serves the slots, limits are exact again, with no restart. A
 * cluster of its own: 3 masters with a replica each, a 1 s node timeout.
 */
describe('rate limiting while a Redis Cluster master fails over', () => {
  let cluster: LocalCluster;
  let open: TestApp;
  let closed: TestApp;
  /** An api that also runs the usage worker, its queue on the same master as the organization. */
  let queued: TestApp;
  let owner: Account;
  let organizationId: string;

  async function createKey(limit: number): Promise<string> {
    return (await createKeyWithId(limit)).key;
  }

  async function createKeyWithId(limit: number): Promise<{ id: string; key: string }> {
    const created = await open.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: `failover ${limit}`,
        environment: 'live',
        permissions: ['users:read'],
        rate_limits: [{ window: 'minute', limit }],
      }),
    );
    expect(created.status).toBe(201);
    return ((await created.json()) as { data: { id: string; key: string } }).data;
  }

  const me = (app: TestApp, key: string) =>
    app.call('/api/v1/auth/me', { headers: { 'x-api-key': key } });

  beforeAll(async () => {
    cluster = await startLocalCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000 });
    const env = (mode: 'open' | 'closed') => ({
      REDIS_CLUSTER_NODES: cluster.env,
      RATE_LIMIT_FAILURE_MODE: mode,
      RATE_LIMIT_TIMEOUT_MS: '250', // the default, which the tests' setup raises
    });
    [open, closed] = await Promise.all([
      startApp({ env: env('open') }),
      startApp({ env: env('closed') }),
    ]);
    owner = await registerOwner(open);
    organizationId = owner.organizationId;
    // A QUEUE_PREFIX (a hash tag) served by the organization's master, so that the failover
    // takes the queue's node down too.
    const master = await cluster.masterOf(`{${organizationId}}`);
    let queuePrefix = '';
    for (let i = 0; queuePrefix === ''; i += 1) {
      const candidate = `${process.env.QUEUE_PREFIX}-failover-${i}`;
      if ((await cluster.masterOf(`{${candidate}}`)).port === master.port) queuePrefix = candidate;
    }
    queued = await startApp({
      env: { ...env('open'), QUEUE_PREFIX: queuePrefix },
      imports: [UsageIngestModule],
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([open?.close(), closed?.close(), queued?.close()]);
    await cluster?.stop();
  });

  it('limits exactly across both processes while the cluster is healthy', async () => {
    const key = await createKey(10);
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => me(i % 2 === 0 ? open : closed, key)),
    );
    expect(statuses.filter((r) => r.status === 200)).toHaveLength(10);
    expect(statuses.filter((r) => r.status === 429)).toHaveLength(20);
    expect((await open.call('/health/ready')).status).toBe(200);
  });

  it('follows RATE_LIMIT_FAILURE_MODE while the master of the organization fails over, then is exact again', async () => {
    const key = await createKey(90);
    expect((await me(closed, key)).headers.get('x-ratelimit-limit')).toBe('90');
    // Every limiter key of the organization's credentials carries its id as the hash tag.
    const master = await cluster.masterOf(`{${organizationId}}`);
    cluster.kill(master.port);

    // Down: closed refuses, open admits unlimited, neither hangs, readiness says why.
    await eventually(async () => {
      const started = performance.now();
      const refused = await me(closed, key);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'SERVICE_UNAVAILABLE',
      );
      const admitted = await me(open, key);
      expect(admitted.status).toBe(200);
      expect(admitted.headers.get('x-ratelimit-limit')).toBeNull();
      expect(performance.now() - started).toBeLessThan(1_500);
    }, 10_000);
    await eventually(async () => {
      const ready = await open.call('/health/ready');
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: { details: unknown } }).error.details).toEqual({
        database: 'up',
        redis: 'down',
      });
    }, 10_000);

    // The replica takes over; both processes find it by themselves.
    const promoted = await eventually(async () => {
      const now = await cluster.masterOf(`{${organizationId}}`);
      expect(now.port).not.toBe(master.port);
      return now;
    }, 20_000);
    await eventually(async () => {
      expect((await me(closed, key)).status).toBe(200);
      expect((await me(open, key)).headers.get('x-ratelimit-limit')).toBe('90');
      // The third process too: its limiter answers again (an admission it could not count has no headers).
      expect((await me(queued, key)).headers.get('x-ratelimit-limit')).toBe('90');
      expect((await open.call('/health/ready')).status).toBe(200);
      expect((await closed.call('/health/ready')).status).toBe(200);
    }, 20_000);

    // Exact again, on the promoted master, across both processes.
    const fresh = await createKey(10);
    expect(await cluster.masterOf(`{${organizationId}}`)).toEqual(promoted);
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => me(i % 2 === 0 ? open : closed, fresh)),
    );
    expect(statuses.filter((r) => r.status === 200)).toHaveLength(10);
    expect(statuses.filter((r) => r.status === 429)).toHaveLength(20);

    // The queue (on the promoted master too) works again: refusals reach Postgres through it.
    const limited = await createKeyWithId(1);
    const refusals = [];
    for (let i = 0; i < 3; i += 1) refusals.push((await me(queued, limited.key)).status);
    expect(refusals).toEqual([200, 429, 429]);
    await eventually(async () => {
      const [row] = await queued.app.get(DataSource).query<{ refusals: number | null }[]>(
        `SELECT count(*)::int AS refusals FROM usage_logs
           WHERE api_key_id = $1 AND limit_type IS NOT NULL`,
        [limited.id],
      );
      expect(row?.refusals).toBe(2);
    }, 20_000);
  }, 90_000);
});
