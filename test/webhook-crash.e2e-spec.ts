import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { type BuiltProcess, killBuiltProcesses, startBuilt } from './support/built-process.js';
import { as, registerOwner } from './support/identity.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type One, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { type WebhookReceiver, startReceiver } from './support/webhook-receiver.js';
import { eventually } from './support/wait.js';

/**
 * A worker killed with SIGKILL while a receiver holds its delivery open loses nothing: after a
 * restart the event is delivered again, with the same webhook-id. A database and queues of its
 * own, so no other spec's worker takes the job and the kill holds up no one else.
 */
describe('webhook delivery survives a worker killed mid-delivery', () => {
  let api: TestApp;
  let receiver: WebhookReceiver;
  let isolated: IsolatedDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    isolated = await isolatedDatabase('webhookcrash');
    env = {
      DATABASE_URL: isolated.url,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-webhookcrash`,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    };
    [api, receiver] = await Promise.all([startApp({ env }), startReceiver()]);
  });

  afterAll(async () => {
    killBuiltProcesses();
    await Promise.all([api?.close(), receiver?.close()]);
    await isolated?.drop();
  });

  const worker = (): BuiltProcess =>
    startBuilt('worker', [], { ...env, WORKER_QUEUES: 'webhooks', LOG_LEVEL: 'log' });

  it('SIGKILL mid-delivery, then a restart: delivered again with the same webhook-id', async () => {
    const owner = await registerOwner(api);
    const created = await api.call(
      '/api/v1/webhooks',
      as(owner, 'POST', { url: receiver.url('/crash'), events: ['api_key.created'] }),
    );
    const { secret } = (await expectStatus<One<{ secret: string }>>(created, 201)).data;
    receiver.hold('/crash');
    const first = worker();
    const key = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'crash', environment: 'test', permissions: ['keys:read'] }),
    );
    expect(key.status).toBe(201);
    const [held] = await eventually(() => {
      const received = receiver.received('/crash');
      expect(received).toHaveLength(1);
      return Promise.resolve(received);
    }, 30_000);
    first.child.kill('SIGKILL');
    await first.exited();
    receiver.release('/crash');

    const second = worker();
    const requests = await eventually(() => {
      const received = receiver.received('/crash');
      expect(received.length).toBeGreaterThanOrEqual(2);
      return Promise.resolve(received);
    }, 60_000);
    const ids = new Set(requests.map((request) => request.headers['webhook-id']));
    expect([...ids]).toEqual([held?.headers['webhook-id']]);
    for (const request of requests) {
      const headers = {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      };
      expect(new Webhook(secret).verify(request.body, headers)).toMatchObject({
        type: 'api_key.created',
        data: { name: 'crash' },
      });
    }
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  }, 120_000);
});
