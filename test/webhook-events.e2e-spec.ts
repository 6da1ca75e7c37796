import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { QuotasService } from '../src/modules/quota/quotas.service.js';
import { WebhookDeliveryModule } from '../src/modules/webhooks/webhook-delivery.module.js';
import { type Account, addMember, as, registerOwner, uniqueName } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { type AuditRow, type One, type Page, expectStatus } from './support/tenancy.js';
import {
  type ReceivedRequest,
  type WebhookReceiver,
  receivedAt as receivedFrom,
  startReceiver,
} from './support/webhook-receiver.js';
import { eventually } from './support/wait.js';

interface EventBody {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}
type Created = { id: string; secret: string };

function headersOf(request: ReceivedRequest): Record<string, string> {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}

/** Verifies a request as a customer would; returns the parsed payload. */
function verified(secret: string, request: ReceivedRequest): EventBody {
  return new Webhook(secret).verify(request.body, headersOf(request)) as EventBody;
}

/**
 * Domain events through the outbox (API.md, Webhooks): each written in the transaction of the
 * change that causes it, delivered only to its organization's endpoints subscribed to its type,
 * never for a change that rolled back; secret rotation with both secrets signing during the
 * overlap. The app runs the worker's webhook side too and allows private URLs (the receiver
 * is on loopback).
 */
describe('webhook domain events', () => {
  let api: TestApp;
  let receiver: WebhookReceiver;
  let owner: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    [api, receiver] = await Promise.all([
      startApp({ imports: [WebhookDeliveryModule], env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } }),
      startReceiver(),
    ]);
    owner = await registerOwner(api);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await Promise.all([api?.close(), receiver?.close()]);
  });

  async function subscribe(account: Account, path: string, events: string[]): Promise<Created> {
    const response = await api.call(
      '/api/v1/webhooks',
      as(account, 'POST', { url: receiver.url(path), events }),
    );
    return (await expectStatus<One<Created>>(response, 201)).data;
  }

  async function createKey(account: Account, name: string): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(account, 'POST', { name, environment: 'test', permissions: ['keys:read'] }),
    );
    return (await expectStatus<One<{ id: string; key: string }>>(response, 201)).data;
  }

  async function createProject(account: Account): Promise<{ id: number }> {
    const response = await api.call(
      '/api/v1/projects',
      as(account, 'POST', { name: uniqueName('project') }),
    );
    return (await expectStatus<One<{ id: number }>>(response, 201)).data;
  }

  const receivedAt = (path: string, count: number, ms?: number): Promise<ReceivedRequest[]> =>
    receivedFrom(receiver, path, count, ms);

  it('a created key reaches the subscribed endpoint, signed, without its secret; other types and organizations get nothing', async () => {
    const keys = await subscribe(owner, '/keys-only', ['api_key.created']);
    const projects = await subscribe(owner, '/projects-only', ['project.created']);
    const stranger = await registerOwner(api, 'stranger');
    const theirs = await subscribe(stranger, '/stranger-all', ['*']);

    const key = await createKey(owner, 'evented');
    const [request] = await receivedAt('/keys-only', 1);
    const event = verified(keys.secret, request);
    expect(event).toMatchObject({
      type: 'api_key.created',
      data: { id: key.id, name: 'evented', organization_id: owner.organizationId },
    });
    expect(request?.headers['webhook-id']).toBe(event.id);
    expect(request?.body).not.toContain(key.key);
    expect(Object.keys(event.data)).not.toContain('key');

    // Later events prove the relay ran past the key's event: each endpoint has only its own.
    const project = await createProject(owner);
    const [projectEvent] = await receivedAt('/projects-only', 1);
    expect(verified(projects.secret, projectEvent)).toMatchObject({
      type: 'project.created',
      data: { id: project.id },
    });
    const own = await createProject(stranger);
    const [strangerEvent] = await receivedAt('/stranger-all', 1);
    expect(verified(theirs.secret, strangerEvent)).toMatchObject({
      type: 'project.created',
      data: { id: own.id, organization_id: stranger.organizationId },
    });
    expect(receiver.received('/keys-only')).toHaveLength(1);
  });

  it('a change that rolls back writes no event and sends nothing', async () => {
    const account = await registerOwner(api, 'rollback');
    await subscribe(account, '/rollback', ['api_key.created']);
    // Fails inside the key's transaction, after its outbox row: the quota row breaks a CHECK.
    jest.spyOn(api.app.get(QuotasService), 'inputForNewKey').mockReturnValueOnce({
      period: 'daily',
      maxRequests: -1,
      periodStart: null,
      periodEnd: null,
    });
    const failed = await api.call(
      '/api/v1/keys',
      as(account, 'POST', {
        name: 'rolled-back',
        environment: 'test',
        permissions: ['keys:read'],
        quota: { period: 'daily', max_requests: 10 },
      }),
    );
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const rows = await dataSource.query<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM outbox_events WHERE organization_id = $1 AND payload->>'name' = 'rolled-back'",
      [account.organizationId],
    );
    expect(rows[0]?.n).toBe(0);
    const keys = await dataSource.query<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM api_keys WHERE organization_id = $1 AND name = 'rolled-back'",
      [account.organizationId],
    );
    expect(keys[0]?.n).toBe(0);

    // A later change's event arrives: the relay ran, and it was the only one.
    await createKey(account, 'committed');
    const [request] = await receivedAt('/rollback', 1);
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ data: { name: 'committed' } });
  });

  it('every domain event type reaches a `*` endpoint, with no secret in any payload', async () => {
    const account = await registerOwner(api, 'domain');
    const all = await subscribe(account, '/domain-all', ['*']);
    const key = await createKey(account, 'lifecycle');
    const rotated = await api.call(
      `/api/v1/keys/${key.id}/rotate`,
      as(account, 'POST', { grace_period_seconds: 0 }),
    );
    const newKey = (await expectStatus<One<{ key: string }>>(rotated, 201)).data.key;
    expect((await api.call(`/api/v1/keys/${key.id}/revoke`, as(account, 'POST'))).status).toBe(200);
    const member = await addMember(api, account, 'viewer');
    const updated = await api.call(
      `/api/v1/users/${member.userId}`,
      as(account, 'PATCH', { role: 'member' }),
    );
    expect(updated.status).toBe(200);
    const removed = await api.call(`/api/v1/users/${member.userId}`, as(account, 'DELETE'));
    expect(removed.status).toBe(204);
    const project = await createProject(account);
    const deleted = await api.call(`/api/v1/projects/${project.id}`, as(account, 'DELETE'));
    expect(deleted.status).toBe(204);

    const expected = [
      'api_key.created',
      'api_key.rotated',
      'api_key.revoked',
      'user.created',
      'organization.member_added',
      'user.updated',
      'organization.member_removed',
      'user.deleted',
      'project.created',
      'project.deleted',
    ];
    const requests = await receivedAt('/domain-all', expected.length);
    const events = requests.map((request) => verified(all.secret, request));
    expect(events.map((event) => event.type).sort()).toEqual([...expected].sort());
    for (const request of requests) {
      expect(request.body).not.toContain(key.key);
      expect(request.body).not.toContain(newKey);
      expect(request.body).not.toMatch(/password|secret_hash|token/i);
    }
    const byType = new Map(events.map((event) => [event.type, event.data]));
    expect(byType.get('user.updated')).toMatchObject({ id: member.userId, role: 'member' });
    expect(byType.get('organization.member_removed')).toMatchObject({
      user_id: member.userId,
      organization_id: account.organizationId,
    });
    expect(byType.get('api_key.revoked')).toMatchObject({ id: key.id, status: 'revoked' });
    expect(byType.get('project.deleted')).toMatchObject({ id: project.id });
  });

  describe('rotate-secret', () => {
    it('returns the new secret once; both sign during the overlap, then only the new one', async () => {
      const created = await subscribe(owner, '/rotating', ['webhook.test']);
      const response = await api.call(
        `/api/v1/webhooks/${created.id}/rotate-secret`,
        as(owner, 'POST'),
      );
      const rotated = (
        await expectStatus<One<{ secret: string; previous_secret_expires_at: string }>>(
          response,
          201,
        )
      ).data;
      expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(rotated.secret).not.toBe(created.secret);
      const overlap = Date.parse(rotated.previous_secret_expires_at) - Date.now();
      expect(overlap).toBeGreaterThan(23.9 * 3600_000);
      expect(overlap).toBeLessThanOrEqual(24 * 3600_000);

      const test = () => api.call(`/api/v1/webhooks/${created.id}/test`, as(owner, 'POST'));
      expect((await test()).status).toBe(202);
      const [during] = await receivedAt('/rotating', 1);
      expect(String(during?.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verified(created.secret, during).type).toBe('webhook.test');
      expect(verified(rotated.secret, during).type).toBe('webhook.test');

      await dataSource.query(
        "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1",
        [created.id],
      );
      expect((await test()).status).toBe(202);
      const [, after] = await receivedAt('/rotating', 2);
      expect(String(after?.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(verified(rotated.secret, after).type).toBe('webhook.test');
      expect(() => verified(created.secret, after)).toThrow();

      // Neither secret is ever shown again, nor audited.
      const audit = await api.call(`/api/v1/audit?target_id=${created.id}`, as(owner, 'GET'));
      const text = await audit.text();
      const entries = (JSON.parse(text) as Page<AuditRow>).data;
      expect(entries.map((entry) => entry.action)).toEqual([
        'webhook.secret_rotated',
        'webhook.created',
      ]);
      expect(text).not.toContain(rotated.secret.slice(6));
      expect(text).not.toContain(created.secret.slice(6));
      const got = await api.call(`/api/v1/webhooks/${created.id}`, as(owner, 'GET'));
      expect(await got.text()).not.toContain(rotated.secret.slice(6));
    });
  });

  it('a hanging receiver holds at most 5 deliveries; another endpoint is still served at once', async () => {
    const account = await registerOwner(api, 'slow');
    const slow = await subscribe(account, '/hanging', ['webhook.test']);
    const fast = await subscribe(account, '/prompt', ['webhook.test']);
    receiver.hold('/hanging');
    // More than the worker's 20 delivery slots: without the limit, all would hang here.
    for (let i = 0; i < 25; i += 1) {
      const sent = await api.call(`/api/v1/webhooks/${slow.id}/test`, as(account, 'POST'));
      expect(sent.status).toBe(202);
    }
    await receivedAt('/hanging', 5);
    const sent = await api.call(`/api/v1/webhooks/${fast.id}/test`, as(account, 'POST'));
    expect(sent.status).toBe(202);
    const [prompt] = await receivedAt('/prompt', 1, 5_000);
    expect(verified(fast.secret, prompt).type).toBe('webhook.test');
    expect(receiver.received('/hanging')).toHaveLength(5);

    receiver.release('/hanging');
    await receivedAt('/hanging', 25, 30_000);
    // Waiting for a slot is not an attempt: one attempt per event, each the first.
    const attempts = await eventually(async () => {
      const response = await api.call(
        `/api/v1/webhooks/${slow.id}/deliveries?limit=100`,
        as(account, 'GET'),
      );
      const page = await expectStatus<Page<{ attempt: number; status: string }>>(response, 200);
      expect(page.total).toBe(25);
      return page.data;
    });
    expect(attempts.every((row) => row.attempt === 1 && row.status === 'succeeded')).toBe(true);
  }, 60_000);
});
