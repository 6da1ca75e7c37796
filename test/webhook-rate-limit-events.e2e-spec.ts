import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import type { RateLimitExceededEvent } from '../src/modules/rate-limit/limit-events.js';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { WebhookDeliveryModule } from '../src/modules/webhooks/webhook-delivery.module.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { type One, expectStatus } from './support/tenancy.js';
import { type WebhookReceiver, startReceiver } from './support/webhook-receiver.js';
import { eventually, untilPast } from './support/wait.js';

interface ExceededEvent {
  id: string;
  type: string;
  data: RateLimitExceededEvent['payload'];
}

/**
 * `rate_limit.exceeded` (API.md, Webhooks): once per key per window, not once per refused
 * request; delivered through the usage queue, the outbox and the webhook worker.
 */
describe('rate_limit.exceeded webhooks', () => {
  let api: TestApp;
  let receiver: WebhookReceiver;
  let owner: Account;

  beforeAll(async () => {
    [api, receiver] = await Promise.all([
      startApp({
        imports: [UsageIngestModule, WebhookDeliveryModule],
        env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
      }),
      startReceiver(),
    ]);
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await Promise.all([api?.close(), receiver?.close()]);
  });

  /** Starts `count` requests with the key now, one after another; their statuses. */
  async function burst(key: string, count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const response = await api.call('/api/v1/keys', { headers: { 'x-api-key': key } });
      statuses.push(response.status);
    }
    return statuses;
  }

  /** Waits for the start of a fresh second (so a short burst stays inside one window). */
  async function nextSecond(): Promise<number> {
    const start = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await untilPast(start - 1);
    return start;
  }

  it('five refusals in one window send one event; a refusal in the next window another', async () => {
    const hook = await api.call(
      '/api/v1/webhooks',
      as(owner, 'POST', { url: receiver.url('/exceeded'), events: ['rate_limit.exceeded'] }),
    );
    const { secret } = (await expectStatus<One<{ secret: string }>>(hook, 201)).data;
    const created = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'bursty',
        environment: 'test',
        permissions: ['keys:read'],
        rate_limits: [{ window: 'second', limit: 1 }],
      }),
    );
    const key = (await expectStatus<One<{ id: string; key: string }>>(created, 201)).data;

    const firstWindow = await nextSecond();
    expect(await burst(key.key, 6)).toEqual([200, 429, 429, 429, 429, 429]);
    const first = await eventually(() => {
      const received = receiver.received('/exceeded');
      expect(received).toHaveLength(1);
      return Promise.resolve(received);
    });
    // Into the next second, once the admitted request has left the sliding window too.
    await untilPast(firstWindow + 1_200);
    expect(await burst(key.key, 2)).toEqual([200, 429]);
    const both = await eventually(() => {
      const received = receiver.received('/exceeded');
      expect(received).toHaveLength(2);
      return Promise.resolve(received);
    });
    expect(both[0]).toBe(first[0]);

    const events = both.map(
      (request) =>
        new Webhook(secret).verify(request.body, {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as ExceededEvent,
    );
    for (const event of events) {
      expect(event).toMatchObject({
        type: 'rate_limit.exceeded',
        data: { api_key_id: key.id, limit_type: 'second', limit_value: 1, current_usage: 1 },
      });
      const start = Date.parse(event.data.window_start);
      expect(start % 1000).toBe(0);
      expect(Date.parse(event.data.resets_at)).toBeGreaterThan(start);
    }
    expect(Date.parse(events[1].data.window_start)).toBeGreaterThan(
      Date.parse(events[0].data.window_start),
    );
  });
});
