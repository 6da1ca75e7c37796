import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { WebhookDeliveryModule } from '../src/modules/webhooks/webhook-delivery.module.js';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import {
  type AuditRow,
  type One,
  type Page,
  expectError,
  expectStatus,
} from './support/tenancy.js';
import {
  type ReceivedRequest,
  type WebhookReceiver,
  receivedAt as receivedFrom,
  startReceiver,
} from './support/webhook-receiver.js';
import { eventually } from './support/wait.js';

interface WebhookRow {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  events: string[];
  active: boolean;
  disabled_reason: string | null;
  secret?: string;
}
interface EventRow {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}
interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  status: string;
  response_status: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

/**
 * Webhooks end to end (API.md, Webhooks): endpoints, the SSRF guard, and delivery through the
 * outbox relay and the worker's queue to a real receiver on 127.0.0.1, each delivery verified
 * with the `standardwebhooks` library. The app under test runs the worker's webhook side too,
 * and allows private URLs (the receiver is on loopback); a second app keeps the default.
 */
describe('webhooks', () => {
  let api: TestApp;
  let strict: TestApp;
  let receiver: WebhookReceiver;
  let owner: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    [api, strict, receiver] = await Promise.all([
      startApp({ imports: [WebhookDeliveryModule], env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } }),
      startApp({ env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'false' } }),
      startReceiver(),
    ]);
    owner = await registerOwner(api);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await Promise.all([api?.close(), strict?.close(), receiver?.close()]);
  });

  async function createWebhook(
    account: Account,
    path: string,
    body: Record<string, unknown> = {},
  ): Promise<WebhookRow & { secret: string }> {
    const response = await api.call(
      '/api/v1/webhooks',
      // Subscribed to test events only: the organization's other events (a key created by
      // another test) do not reach the receiver paths these tests count deliveries on.
      as(account, 'POST', { url: receiver.url(path), events: ['webhook.test'], ...body }),
    );
    return (await expectStatus<One<WebhookRow & { secret: string }>>(response, 201)).data;
  }

  async function sendTest(account: Account, id: string): Promise<EventRow> {
    const response = await api.call(`/api/v1/webhooks/${id}/test`, as(account, 'POST'));
    return (await expectStatus<One<EventRow>>(response, 202)).data;
  }

  async function deliveries(account: Account, id: string): Promise<DeliveryRow[]> {
    const response = await api.call(`/api/v1/webhooks/${id}/deliveries`, as(account, 'GET'));
    return (await expectStatus<Page<DeliveryRow>>(response, 200)).data;
  }

  const receivedAt = (path: string, count: number, ms?: number): Promise<ReceivedRequest[]> =>
    receivedFrom(receiver, path, count, ms);

  /** Verifies a request as a customer would; returns the parsed payload. */
  function verified(secret: string, request: ReceivedRequest): EventRow {
    const headers = {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    };
    return new Webhook(secret).verify(request.body, headers) as EventRow;
  }

  async function keyWith(permissions: string[]): Promise<Record<string, string>> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'webhooks', environment: 'test', permissions }),
    );
    const { data } = await expectStatus<One<{ key: string }>>(response, 201);
    return { 'x-api-key': data.key };
  }

  describe('endpoints', () => {
    it('creates with a secret shown once: never in get, list or the audit trail, sealed at rest', async () => {
      const created = await createWebhook(owner, '/secretive', {
        description: 'billing',
        events: ['api_key.created', 'quota.exceeded'],
      });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);
      expect(created).toMatchObject({
        organization_id: owner.organizationId,
        url: receiver.url('/secretive'),
        description: 'billing',
        events: ['api_key.created', 'quota.exceeded'],
        active: true,
        disabled_reason: null,
      });
      const texts = await Promise.all(
        [
          `/api/v1/webhooks/${created.id}`,
          '/api/v1/webhooks?limit=100',
          `/api/v1/audit?target_id=${created.id}`,
        ].map(async (path) => {
          const response = await api.call(path, as(owner, 'GET'));
          expect(response.status).toBe(200);
          return response.text();
        }),
      );
      for (const text of texts) {
        expect(text).toContain(created.id);
        expect(text).not.toContain(created.secret.slice(6));
        expect(text).not.toContain('"secret"');
      }
      const [row] = await dataSource.query<{ secret_sealed: string }[]>(
        'SELECT secret_sealed FROM webhook_endpoints WHERE id = $1',
        [created.id],
      );
      expect(row?.secret_sealed).not.toContain(created.secret.slice(6));
      const audit = JSON.parse(texts[2] ?? '') as Page<AuditRow>;
      expect(audit.data.map((entry) => entry.action)).toEqual(['webhook.created']);
    });

    it('changes only the fields sent (audited), and deletes (204, then 404)', async () => {
      const created = await createWebhook(owner, '/patched');
      const patched = await api.call(
        `/api/v1/webhooks/${created.id}`,
        as(owner, 'PATCH', { events: ['user.created'], description: 'ops', active: false }),
      );
      expect((await expectStatus<One<WebhookRow>>(patched, 200)).data).toMatchObject({
        url: receiver.url('/patched'),
        events: ['user.created'],
        description: 'ops',
        active: false,
      });
      const moved = await api.call(
        `/api/v1/webhooks/${created.id}`,
        as(owner, 'PATCH', { url: receiver.url('/moved') }),
      );
      expect((await expectStatus<One<WebhookRow>>(moved, 200)).data.url).toBe(
        receiver.url('/moved'),
      );
      const removed = await api.call(`/api/v1/webhooks/${created.id}`, as(owner, 'DELETE'));
      expect(removed.status).toBe(204);
      await expectError(
        await api.call(`/api/v1/webhooks/${created.id}`, as(owner, 'GET')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      const audit = await api.call(`/api/v1/audit?target_id=${created.id}`, as(owner, 'GET'));
      const actions = (await expectStatus<Page<AuditRow>>(audit, 200)).data.map((e) => e.action);
      expect(actions).toEqual([
        'webhook.deleted',
        'webhook.updated',
        'webhook.updated',
        'webhook.created',
      ]);
    });

    it('refuses unknown event types, malformed secrets and null fields (400)', async () => {
      const bodies = [
        { url: receiver.url('/x'), events: ['user.exploded'] },
        { url: receiver.url('/x'), events: [] },
        { url: receiver.url('/x'), events: ['*'], secret: 'whsec_short' },
        { url: receiver.url('/x'), events: ['*'], secret: `whsec_${'A'.repeat(20)}` },
        { url: receiver.url('/x'), events: ['*'], secret: 'not-a-secret' },
        { events: ['*'] },
      ];
      for (const body of bodies) {
        await expectError(
          await api.call('/api/v1/webhooks', as(owner, 'POST', body)),
          400,
          'VALIDATION_ERROR',
        );
      }
      const created = await createWebhook(owner, '/nulls');
      for (const body of [{ url: null }, { events: null }, { events: ['nope'] }]) {
        await expectError(
          await api.call(`/api/v1/webhooks/${created.id}`, as(owner, 'PATCH', body)),
          400,
          'VALIDATION_ERROR',
        );
      }
    });

    it('refuses what the SSRF guard refuses, on create and on PATCH', async () => {
      const refusedEverywhere = [
        'ftp://127.0.0.1/',
        'http://169.254.169.254/latest/meta-data/',
        'http://[fd00:ec2::254]/',
        'http://[fe80::1]/',
        'http://100.64.0.1/',
        'http://[::ffff:127.0.0.1]/',
        'http://0.0.0.0/',
      ];
      const refusedByDefault = [
        'http://127.0.0.1/',
        'http://2130706433/',
        'http://0177.0.0.1/',
        'http://[::1]/',
        'http://10.0.0.1/',
        'http://localhost/',
      ];
      const strictOwner = await registerOwner(strict);
      for (const [app, account, urls] of [
        [api, owner, refusedEverywhere],
        [strict, strictOwner, [...refusedEverywhere, ...refusedByDefault]],
      ] as const) {
        for (const url of urls) {
          const error = await expectError(
            await app.call('/api/v1/webhooks', as(account, 'POST', { url, events: ['*'] })),
            400,
            'VALIDATION_ERROR',
          );
          expect(error.details).toEqual([
            { field: 'url', message: expect.stringMatching(/^url /) },
          ]);
        }
      }
      const localhost = await expectError(
        await strict.call(
          '/api/v1/webhooks',
          as(strictOwner, 'POST', { url: 'http://localhost:1/', events: ['*'] }),
        ),
        400,
        'VALIDATION_ERROR',
      );
      expect(localhost.message).toMatch(/loopback.*WEBHOOK_ALLOW_PRIVATE_URLS/);
      const created = await createWebhook(owner, '/guarded');
      await expectError(
        await api.call(
          `/api/v1/webhooks/${created.id}`,
          as(owner, 'PATCH', { url: 'http://169.254.169.254/' }),
        ),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('worst callers: another organization (404), a narrow key or a viewer (403), nobody (401)', async () => {
      const created = await createWebhook(owner, '/guarded-routes');
      const [delivery] = await (async () => {
        await sendTest(owner, created.id);
        return eventually(async () => {
          const rows = await deliveries(owner, created.id);
          expect(rows).toHaveLength(1);
          return rows;
        });
      })();
      const stranger = await registerOwner(api, 'stranger');
      const writes: [string, string, unknown?][] = [
        ['PATCH', `/api/v1/webhooks/${created.id}`, { active: false }],
        ['DELETE', `/api/v1/webhooks/${created.id}`],
        ['POST', `/api/v1/webhooks/${created.id}/test`],
        ['POST', `/api/v1/webhooks/${created.id}/rotate-secret`],
        ['POST', `/api/v1/webhooks/deliveries/${delivery?.id}/retry`],
      ];
      const reads = [`/api/v1/webhooks/${created.id}`, `/api/v1/webhooks/${created.id}/deliveries`];
      for (const path of reads) {
        await expectError(await api.call(path, as(stranger, 'GET')), 404, 'RESOURCE_NOT_FOUND');
      }
      for (const [method, path, body] of writes) {
        await expectError(
          await api.call(path, as(stranger, method, body)),
          404,
          'RESOURCE_NOT_FOUND',
        );
      }
      const listed = await api.call('/api/v1/webhooks', as(stranger, 'GET'));
      expect((await expectStatus<Page<WebhookRow>>(listed, 200)).total).toBe(0);

      const reader = await keyWith(['webhooks:read']);
      const viewer = await addMember(api, owner, 'viewer');
      for (const path of reads) {
        expect((await api.call(path, { headers: reader })).status).toBe(200);
        expect((await api.call(path, as(viewer, 'GET'))).status).toBe(200);
      }
      const create = { url: receiver.url('/nope'), events: ['*'] };
      for (const [method, path, body] of [...writes, ['POST', '/api/v1/webhooks', create]] as [
        string,
        string,
        unknown?,
      ][]) {
        await expectError(
          await api.call(
            path,
            body === undefined ? { method, headers: reader } : json(method, body, reader),
          ),
          403,
          'PERMISSION_DENIED',
        );
        await expectError(await api.call(path, as(viewer, method, body)), 403, 'PERMISSION_DENIED');
        const anonymous = body === undefined ? { method } : json(method, body);
        expect((await api.call(path, anonymous)).status).toBe(401);
      }
      const writer = await keyWith(['webhooks:write']);
      const byKey = await api.call('/api/v1/webhooks', json('POST', create, writer));
      expect(byKey.status).toBe(201);
      // Nothing was changed by the refused calls.
      const still = await api.call(`/api/v1/webhooks/${created.id}`, as(owner, 'GET'));
      expect((await expectStatus<One<WebhookRow>>(still, 200)).data.active).toBe(true);
    });
  });

  describe('delivery', () => {
    it('delivers a test event, signed so that standardwebhooks verifies it, and records the attempt', async () => {
      const created = await createWebhook(owner, '/tested');
      const event = await sendTest(owner, created.id);
      expect(event).toMatchObject({ type: 'webhook.test', data: { webhook_id: created.id } });
      expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
      const [request] = await receivedAt('/tested', 1);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers['webhook-id']).toBe(event.id);
      expect(verified(created.secret, request)).toEqual(event);
      const [attempt] = await eventually(async () => {
        const rows = await deliveries(owner, created.id);
        expect(rows).toHaveLength(1);
        return rows;
      });
      expect(attempt).toMatchObject({
        event_id: event.id,
        event_type: 'webhook.test',
        attempt: 1,
        status: 'succeeded',
        response_status: 200,
        error: null,
        response_body: 'answered 200 to /tested',
      });
      expect(attempt?.duration_ms).toBeGreaterThanOrEqual(0);
    });

    it('signs with a secret the caller gave', async () => {
      const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
      const created = await createWebhook(owner, '/own-secret', { secret });
      expect(created.secret).toBe(secret);
      const event = await sendTest(owner, created.id);
      const [request] = await receivedAt('/own-secret', 1);
      expect(verified(secret, request)).toEqual(event);
    });

    it('retries a 500 at once, then after about 5 s, with the same webhook-id, until a 2xx', async () => {
      receiver.answer('/flaky', [500, 503, 200]);
      const created = await createWebhook(owner, '/flaky');
      const event = await sendTest(owner, created.id);
      const requests = await receivedAt('/flaky', 3, 20_000);
      for (const request of requests) {
        expect(request.headers['webhook-id']).toBe(event.id);
        expect(verified(created.secret, request)).toEqual(event);
      }
      const rows = await eventually(async () => {
        const found = await deliveries(owner, created.id);
        expect(found).toHaveLength(3);
        return found;
      });
      expect(rows.map((row) => [row.attempt, row.status, row.response_status])).toEqual([
        [3, 'succeeded', 200],
        [2, 'failed', 503],
        [1, 'failed', 500],
      ]);
      expect(rows[2]?.error).toBe('HTTP 500');
      expect(rows[2]?.response_body).toBe('answered 500 to /flaky');

      // A manual retry of the first attempt: one more attempt, the same event.
      const retried = await api.call(
        `/api/v1/webhooks/deliveries/${rows[2]?.id}/retry`,
        as(owner, 'POST'),
      );
      expect((await expectStatus<One<EventRow>>(retried, 202)).data.id).toBe(event.id);
      const again = (await receivedAt('/flaky', 4))[3];
      expect(verified(created.secret, again)).toEqual(event);
      await eventually(async () => {
        const [latest] = await deliveries(owner, created.id);
        expect(latest).toMatchObject({ attempt: 4, status: 'succeeded' });
      });
    }, 30_000);

    it('disables the endpoint at once on 410 Gone, with an audit entry, and sends nothing more', async () => {
      receiver.answer('/gone', [410]);
      const created = await createWebhook(owner, '/gone');
      await sendTest(owner, created.id);
      const disabled = await eventually(async () => {
        const response = await api.call(`/api/v1/webhooks/${created.id}`, as(owner, 'GET'));
        const { data } = await expectStatus<One<WebhookRow>>(response, 200);
        expect(data.active).toBe(false);
        return data;
      });
      expect(disabled.disabled_reason).toBe('gone');
      const rows = await deliveries(owner, created.id);
      expect(rows.map((row) => [row.status, row.response_status])).toEqual([['failed', 410]]);
      expect(receiver.received('/gone')).toHaveLength(1);
      const audit = await api.call(
        `/api/v1/audit?target_id=${created.id}&action=webhook.disabled`,
        as(owner, 'GET'),
      );
      const [entry] = (await expectStatus<Page<AuditRow>>(audit, 200)).data;
      expect(entry?.actor.type).toBe('system');
      await expectError(
        await api.call(`/api/v1/webhooks/${created.id}/test`, as(owner, 'POST')),
        409,
        'CONFLICT',
      );
      // Turned back on by a person, it receives again.
      receiver.answer('/gone', [200]);
      const enabled = await api.call(
        `/api/v1/webhooks/${created.id}`,
        as(owner, 'PATCH', { active: true }),
      );
      expect((await expectStatus<One<WebhookRow>>(enabled, 200)).data.disabled_reason).toBeNull();
      await sendTest(owner, created.id);
      await receivedAt('/gone', 2);
    });

    it('relays outbox events to the endpoints subscribed to their type, once even when relayed again', async () => {
      const org = await registerOwner(api, 'relay');
      const all = await createWebhook(org, '/relay-all', { events: ['*'] });
      const quota = await createWebhook(org, '/relay-quota', { events: ['quota.warning'] });
      await createWebhook(org, '/relay-other', { events: ['user.created'] });
      const off = await createWebhook(org, '/relay-off', { events: ['*'] });
      await expectStatus(
        await api.call(`/api/v1/webhooks/${off.id}`, as(org, 'PATCH', { active: false })),
        200,
      );
      const [{ id }] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO outbox_events (organization_id, type, payload)
         VALUES ($1, 'quota.warning', '{"quota_id": "q1", "used": 80}') RETURNING id`,
        [org.organizationId],
      );
      const wireId = `evt_${id.replace(/-/g, '')}`;
      for (const [path, secret] of [
        ['/relay-all', all.secret],
        ['/relay-quota', quota.secret],
      ] as const) {
        const [request] = await receivedAt(path, 1);
        expect(verified(secret, request)).toMatchObject({
          id: wireId,
          type: 'quota.warning',
          data: { quota_id: 'q1', used: 80 },
        });
      }
      const dispatched = async () => {
        const [row] = await dataSource.query<{ dispatched_at: Date | null }[]>(
          'SELECT dispatched_at FROM outbox_events WHERE id = $1',
          [id],
        );
        expect(row?.dispatched_at).not.toBeNull();
      };
      await eventually(dispatched);
      // A relay that died after enqueueing, before marking: the event is handed over again,
      // and the job ids (event, endpoint) keep it from being delivered twice.
      await dataSource.query('UPDATE outbox_events SET dispatched_at = NULL WHERE id = $1', [id]);
      await eventually(dispatched);
      await eventually(async () => {
        const [row] = await dataSource.query<{ attempts: number }[]>(
          'SELECT count(*)::int AS attempts FROM webhook_deliveries WHERE event_id = $1',
          [id],
        );
        expect(row?.attempts).toBe(2);
      });
      expect(receiver.received('/relay-all')).toHaveLength(1);
      expect(receiver.received('/relay-quota')).toHaveLength(1);
      expect(receiver.received('/relay-other')).toHaveLength(0);
      expect(receiver.received('/relay-off')).toHaveLength(0);
    });

    it('listens for commits again after its connection is cut, delivering what committed meanwhile', async () => {
      const listeners = async () =>
        (
          await dataSource.query<{ pid: number }[]>(
            `SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'gatehouse-outbox-listener'`,
          )
        ).map((row) => row.pid);
      const cut = await eventually(async () => {
        const pids = await listeners();
        expect(pids.length).toBeGreaterThan(0);
        return pids;
      });
      await dataSource.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [cut]);
      const created = await createWebhook(owner, '/relisten');
      const event = await sendTest(owner, created.id);
      const [request] = await receivedAt('/relisten', 1);
      expect(request?.headers['webhook-id']).toBe(event.id);
      await eventually(async () => {
        const pids = await listeners();
        expect(pids.length).toBeGreaterThan(0);
        expect(pids.filter((pid) => cut.includes(pid))).toEqual([]);
      });
    });
  });
});
