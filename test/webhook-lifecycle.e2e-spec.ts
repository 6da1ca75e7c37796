import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { WebhookDeliveryModule } from '../src/modules/webhooks/webhook-delivery.module.js';
import { WebhookLifecycle } from '../src/modules/webhooks/webhook-lifecycle.js';
import { WebhookLifecycleModule } from '../src/modules/webhooks/webhook-lifecycle.module.js';
import { WebhooksRetention } from '../src/modules/webhooks/webhooks-retention.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { type AuditRow, type One, type Page, expectStatus } from './support/tenancy.js';
import { type WebhookReceiver, startReceiver } from './support/webhook-receiver.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { eventually } from './support/wait.js';

const DAY_MS = 86_400_000;

interface OutboxRow {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * The lifecycle job (run directly with a `now`, as its scheduler would later): key expiry,
 * version deprecation and sunset (to the organizations that called the version), endpoints
 * failing for 5 days; each event once however often the job runs. And the webhooks retention.
 * The job is platform-wide and is run here days ahead: on its own database, Redis prefix and
 * queues, so it neither sees nor touches other specs' keys and endpoints.
 */
describe('webhook lifecycle job', () => {
  let api: TestApp;
  let receiver: WebhookReceiver;
  let dataSource: DataSource;
  let lifecycle: WebhookLifecycle;
  const t0 = Date.now();
  const at = (days: number) => new Date(t0 + days * DAY_MS);

  let isolated: IsolatedDatabase;

  beforeAll(async () => {
    isolated = await isolatedDatabase('lifecycle');
    [api, receiver] = await Promise.all([
      startApp({
        imports: [WebhookDeliveryModule, WebhookLifecycleModule],
        env: {
          DATABASE_URL: isolated.url,
          REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? 'gh-test:'}lifecycle:`,
          QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-lifecycle`,
          WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        },
      }),
      startReceiver(),
    ]);
    dataSource = api.app.get(DataSource);
    lifecycle = api.app.get(WebhookLifecycle);
  });

  afterAll(async () => {
    await Promise.all([api?.close(), receiver?.close()]);
    await isolated?.drop();
  });

  async function createWebhook(owner: Account, path: string, events: string[]): Promise<string> {
    const response = await api.call(
      '/api/v1/webhooks',
      as(owner, 'POST', { url: receiver.url(path), events }),
    );
    return (await expectStatus<One<{ id: string }>>(response, 201)).data.id;
  }

  function outbox(organizationId: string, type: string): Promise<OutboxRow[]> {
    return dataSource.query<OutboxRow[]>(
      `SELECT id, type, payload FROM outbox_events
       WHERE organization_id = $1 AND type = $2 ORDER BY created_at, id`,
      [organizationId, type],
    );
  }

  /** Waits until `path` has received exactly these event types, in any order. */
  function receivesTypes(path: string, types: string[]): Promise<void> {
    return eventually(() => {
      expect(typesAt(path)).toEqual([...types].sort());
      return Promise.resolve();
    });
  }

  /** The event types `path` received, sorted (deliveries run concurrently: any order). */
  function typesAt(path: string): string[] {
    return receiver
      .received(path)
      .map((request) => (JSON.parse(request.body) as { type: string }).type)
      .sort();
  }

  it('api_key.expiring 7 and 1 days before, api_key.expired after: each once', async () => {
    const owner = await registerOwner(api, 'expiry');
    await createWebhook(owner, '/expiry', ['api_key.expiring', 'api_key.expired']);
    const created = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'short-lived',
        environment: 'test',
        permissions: ['keys:read'],
        expires_at: at(10).toISOString(),
      }),
    );
    const key = (await expectStatus<One<{ id: string }>>(created, 201)).data;
    const events = () =>
      dataSource.query<OutboxRow[]>(
        `SELECT id, type, payload FROM outbox_events
         WHERE organization_id = $1 AND type LIKE 'api_key.expir%' ORDER BY created_at`,
        [owner.organizationId],
      );

    await lifecycle.run(at(0));
    expect(await events()).toEqual([]);
    for (const day of [3.5, 3.6, 9.5, 9.6, 10.5, 10.6]) await lifecycle.run(at(day));
    const rows = await events();
    expect(rows.map((row) => [row.type, row.payload.days_before])).toEqual([
      ['api_key.expiring', 7],
      ['api_key.expiring', 1],
      ['api_key.expired', undefined],
    ]);
    for (const row of rows) {
      expect(row.payload).toMatchObject({ api_key_id: key.id, name: 'short-lived' });
      expect(Date.parse(String(row.payload.expires_at))).toBe(Date.parse(at(10).toISOString()));
    }
    await receivesTypes('/expiry', ['api_key.expired', 'api_key.expiring', 'api_key.expiring']);
  });

  it('version deprecated and sunset approaching (30, 7 days): only to recent callers, with per-key counts', async () => {
    const [caller, stranger] = await Promise.all([
      registerOwner(api, 'caller'),
      registerOwner(api, 'stranger'),
    ]);
    await Promise.all([
      createWebhook(caller, '/caller', [
        'api_version.deprecated',
        'api_version.sunset_approaching',
      ]),
      createWebhook(stranger, '/stranger', ['*']),
    ]);
    const version = `v${randomInt(100_000, 999_999)}`;
    await dataSource.query(
      `INSERT INTO api_versions (version, status, deprecated_at, sunset_date, migration_guide_url)
       VALUES ($1, 'stable', $2, $3, 'https://example.com/migrate')`,
      [version, at(20), at(40)],
    );
    const [k1, k2] = [randomUUID(), randomUUID()].sort();
    const histogram = Array.from(
      { length: 55 },
      (_, i) => `latency_h${String(i).padStart(2, '0')}`,
    );
    const call = (organizationId: string, keyId: string, day: Date, requests: number) =>
      dataSource.query(
        `INSERT INTO usage_rollups_day (bucket, organization_id, api_key_id, method, route,
           api_version, status, requests, rate_limited, quota_exceeded, response_time_sum_ms,
           response_time_max_ms, ${histogram.join(', ')})
         VALUES (date_trunc('day', $1::timestamptz), $2, $3, 'GET', '/api/v1/keys', $4, 200, $5,
           0, 0, 0, 0, ${histogram.map(() => '0').join(', ')})`,
        [day, organizationId, keyId, version, requests],
      );
    // The caller's keys called it (a day bucket inside every run's last 30 days); the
    // stranger's call is older than 30 days for every run below.
    await call(caller.organizationId, k1, at(10), 12);
    await call(caller.organizationId, k2, at(10), 3);
    await call(stranger.organizationId, randomUUID(), at(-25), 50);

    for (const day of [5, 11, 11.1, 21, 21.1, 34, 34.1]) await lifecycle.run(at(day));

    const calls = [
      { api_key_id: k1, requests: 12 },
      { api_key_id: k2, requests: 3 },
    ];
    const sunset = await outbox(caller.organizationId, 'api_version.sunset_approaching');
    expect(sunset.map((row) => row.payload)).toEqual([
      expect.objectContaining({ version, days_before: 30, calls }),
      expect.objectContaining({ version, days_before: 7, calls }),
    ]);
    const deprecated = await outbox(caller.organizationId, 'api_version.deprecated');
    expect(deprecated.map((row) => row.payload)).toEqual([
      expect.objectContaining({
        version,
        calls,
        deprecated_at: at(20).toISOString(),
        sunset_date: at(40).toISOString(),
        migration_guide_url: 'https://example.com/migrate',
      }),
    ]);
    for (const type of ['api_version.deprecated', 'api_version.sunset_approaching'])
      expect(await outbox(stranger.organizationId, type)).toEqual([]);
    await receivesTypes('/caller', [
      'api_version.deprecated',
      'api_version.sunset_approaching',
      'api_version.sunset_approaching',
    ]);
    expect(typesAt('/stranger')).toEqual([]);
  });

  it('disables an endpoint failing for 5 days (audited), telling only the other endpoints', async () => {
    const owner = await registerOwner(api, 'failing');
    const failing = await createWebhook(owner, '/failing', ['*']);
    const recovered = await createWebhook(owner, '/recovered', ['api_key.created']);
    const other = await createWebhook(owner, '/other', ['webhook.endpoint_disabled']);
    const attempt = (webhookId: string, status: string, day: number) =>
      dataSource.query(
        `INSERT INTO webhook_deliveries (organization_id, webhook_id, event_id, event_type,
           attempt, status, duration_ms, created_at)
         VALUES ($1, $2, $3, 'api_key.created', 1, $4, 5, $5)`,
        [owner.organizationId, webhookId, randomUUID(), status, at(day)],
      );
    await attempt(failing, 'succeeded', -9);
    await attempt(failing, 'failed', -5.5);
    await attempt(failing, 'failed', -1);
    await attempt(recovered, 'failed', -7);
    await attempt(recovered, 'succeeded', -2);
    await attempt(recovered, 'failed', -1);

    await lifecycle.run(at(0));
    await lifecycle.run(at(0.01));

    const states = await dataSource.query<{ id: string; active: boolean; reason: string }[]>(
      `SELECT id, active, disabled_reason AS reason FROM webhook_endpoints
       WHERE organization_id = $1`,
      [owner.organizationId],
    );
    expect(Object.fromEntries(states.map((s) => [s.id, [s.active, s.reason]]))).toEqual({
      [failing]: [false, 'failing'],
      [recovered]: [true, null],
      [other]: [true, null],
    });
    const audit = await api.call(
      `/api/v1/audit?target_id=${failing}&action=webhook.disabled`,
      as(owner, 'GET'),
    );
    const entries = (await expectStatus<Page<AuditRow>>(audit, 200)).data;
    expect(entries).toHaveLength(1);
    expect(entries[0]?.actor.type).toBe('system');

    const [event] = await outbox(owner.organizationId, 'webhook.endpoint_disabled');
    expect(event?.payload).toMatchObject({ webhook_id: failing, reason: 'failing' });
    await receivesTypes('/other', ['webhook.endpoint_disabled']);
    expect(typesAt('/failing')).toEqual([]);
    expect(typesAt('/recovered')).toEqual([]);
  });

  it('an endpoint disabled by a 410 is announced to the other endpoints, not to itself', async () => {
    const owner = await registerOwner(api, 'gone');
    const gone = await createWebhook(owner, '/gone', ['*']);
    await createWebhook(owner, '/watcher', ['webhook.endpoint_disabled']);
    receiver.answer('/gone', [410]);
    const test = await api.call(`/api/v1/webhooks/${gone}/test`, as(owner, 'POST'));
    await expectStatus(test, 202);
    await receivesTypes('/watcher', ['webhook.endpoint_disabled']);
    const [event] = await outbox(owner.organizationId, 'webhook.endpoint_disabled');
    expect(event?.payload).toMatchObject({
      webhook_id: gone,
      reason: 'gone',
      url: receiver.url('/gone'),
    });
    expect(typesAt('/gone')).toEqual(['webhook.test']);
  });

  it('retention deletes dispatched outbox events and attempts past their days', async () => {
    const owner = await registerOwner(api, 'retention');
    const webhook = await createWebhook(owner, '/retention', ['quota.warning']);
    const event = async (createdDay: number, dispatchedDay: number | null) => {
      const [row] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO outbox_events (organization_id, type, payload, created_at, dispatched_at)
         VALUES ($1, 'user.updated', '{}', $2, $3) RETURNING id`,
        [owner.organizationId, at(createdDay), dispatchedDay === null ? null : at(dispatchedDay)],
      );
      return row?.id;
    };
    const attempt = async (day: number) => {
      const [row] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO webhook_deliveries (organization_id, webhook_id, event_id, event_type,
           attempt, status, duration_ms, created_at)
         VALUES ($1, $2, $3, 'quota.warning', 1, 'succeeded', 5, $4) RETURNING id`,
        [owner.organizationId, webhook, randomUUID(), at(day)],
      );
      return row?.id;
    };
    const [oldDispatched, recentDispatched, oldAttempt, recentAttempt] = await Promise.all([
      event(-9, -8),
      event(-6, -6),
      attempt(-31),
      attempt(-29),
    ]);

    const purge = await api.app.get(WebhooksRetention).purge(at(0));
    expect(purge.outboxEvents).toBeGreaterThanOrEqual(1);
    expect(purge.deliveries).toBeGreaterThanOrEqual(1);
    const outboxLeft = await dataSource.query<{ id: string }[]>(
      'SELECT id FROM outbox_events WHERE id = ANY($1)',
      [[oldDispatched, recentDispatched]],
    );
    expect(outboxLeft.map((row) => row.id)).toEqual([recentDispatched]);
    const attemptsLeft = await dataSource.query<{ id: string }[]>(
      'SELECT id FROM webhook_deliveries WHERE id = ANY($1)',
      [[oldAttempt, recentAttempt]],
    );
    expect(attemptsLeft.map((row) => row.id)).toEqual([recentAttempt]);
  });

  it('retention keeps a lifecycle dedupe row while its event could be written again', async () => {
    const owner = await registerOwner(api, 'lifecycle-retention');
    const [deprecated, sunset, gone] = [0, 1, 2].map(() => `v${randomInt(100_000, 999_999)}`);
    await dataSource.query(
      `INSERT INTO api_versions (version, status, sunset_date) VALUES
         ($1, 'deprecated', NULL), ($2, 'deprecated', $3)`,
      [deprecated, sunset, at(-1)],
    );
    const keys = {
      expiringOld: `api_key.expiring:${randomUUID()}:7:${at(-39).getTime()}`,
      expiringRecent: `api_key.expiring:${randomUUID()}:7:${at(-37).getTime()}`,
      deprecatedLive: `api_version.deprecated:${deprecated}:${owner.organizationId}`,
      deprecatedSunset: `api_version.deprecated:${sunset}:${owner.organizationId}`,
      deprecatedGone: `api_version.deprecated:${gone}:${owner.organizationId}`,
    };
    const created = {
      expiringOld: -46,
      expiringRecent: -44,
      deprecatedLive: -400,
      deprecatedSunset: -400,
      deprecatedGone: -400,
    };
    for (const [name, key] of Object.entries(keys)) {
      await dataSource.query(
        `INSERT INTO webhook_lifecycle_events (dedupe_key, organization_id, created_at)
         VALUES ($1, $2, $3)`,
        [key, owner.organizationId, at(created[name as keyof typeof created])],
      );
    }

    const purge = await api.app.get(WebhooksRetention).purge(at(0));
    expect(purge.lifecycleEvents).toBeGreaterThanOrEqual(3);
    const left = await dataSource.query<{ dedupe_key: string }[]>(
      'SELECT dedupe_key FROM webhook_lifecycle_events WHERE dedupe_key = ANY($1) ORDER BY 1',
      [Object.values(keys)],
    );
    // Past 45 days a key event's window is over; a version deprecated and not sunset would
    // send its `api_version.deprecated` again, so that row stays however old.
    expect(left.map((row) => row.dedupe_key)).toEqual(
      [keys.expiringRecent, keys.deprecatedLive].sort(),
    );
  });

  it('ages an outbox event from its dispatch, not its creation', async () => {
    const owner = await registerOwner(api, 'pending');
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO outbox_events (organization_id, type, payload, created_at)
       VALUES ($1, 'user.updated', '{}', $2) RETURNING id`,
      [owner.organizationId, at(-60)],
    );
    // Written undispatched 60 days ago (as if the relay had been down); the relay dispatches it
    // now, and the purge keeps it (a pending one, dispatched_at null, is never deleted).
    await eventually(async () => {
      const [state] = await dataSource.query<{ dispatched: boolean }[]>(
        'SELECT dispatched_at IS NOT NULL AS dispatched FROM outbox_events WHERE id = $1',
        [row?.id],
      );
      expect(state?.dispatched).toBe(true);
    });
    await api.app.get(WebhooksRetention).purge(at(0));
    const left = await dataSource.query<{ id: string }[]>(
      'SELECT id FROM outbox_events WHERE id = $1',
      [row?.id],
    );
    expect(left).toHaveLength(1);
  });
});
