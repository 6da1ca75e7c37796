import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisBus } from '../src/redis/redis-bus.js';
import type { RedisClient } from '../src/redis/redis-client.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';

/**
 * A change to what limits an organization's keys (a quota, a key's own windows or
 * permissions, the organization's endpoint overrides) holds from the very next request on
 * every process,
 * not once a change message has arrived: the second process here hears no messages at all.
 */
describe('limits hold on every process from the request after the change', () => {
  let api: TestApp;
  let deaf: TestApp;
  let owner: Account;

  beforeAll(async () => {
    [api, deaf] = await Promise.all([startApp(), startApp()]);
    owner = await registerOwner(api);
    // The second process's pub/sub connection stops listening: no change message reaches it.
    const bus = deaf.app.get<RedisBus, { subscriber: RedisClient | undefined }>(RedisBus);
    await bus.subscriber?.unsubscribe();
  });

  afterAll(async () => {
    await Promise.all([api.close(), deaf.close()]);
  });

  async function createKey(body: Record<string, unknown> = {}) {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'consistency',
        environment: 'live',
        permissions: ['users:read'],
        ...body,
      }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { id: string; key: string } }).data;
  }

  const callWith = (secret: string) =>
    deaf.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });

  async function statuses(secret: string, count: number): Promise<number[]> {
    const seen: number[] = [];
    for (let i = 0; i < count; i += 1) seen.push((await callWith(secret)).status);
    return seen;
  }

  it('a quota created on one process counts and refuses on the other at once', async () => {
    const key = await createKey();
    // The deaf process knows the key and the organization before the quota exists.
    expect(await statuses(key.key, 1)).toEqual([200]);
    const quota = await api.call(
      '/api/v1/quotas',
      as(owner, 'POST', { api_key_id: key.id, period: 'daily', max_requests: 2 }),
    );
    expect(quota.status).toBe(201);
    const id = ((await quota.json()) as { data: { id: string } }).data.id;
    expect(await statuses(key.key, 3)).toEqual([200, 200, 429]);
    const read = await api.call(`/api/v1/quotas/${id}`, as(owner, 'GET'));
    expect(((await read.json()) as { data: { used: number } }).data.used).toBe(2);

    // Raising it holds at once too.
    const raised = await api.call(`/api/v1/quotas/${id}`, as(owner, 'PATCH', { max_requests: 3 }));
    expect(raised.status).toBe(200);
    expect(await statuses(key.key, 2)).toEqual([200, 429]);
  });

  it('a key created with a quota has it from its first request on the other process', async () => {
    const key = await createKey({ quota: { period: 'monthly', max_requests: 1 } });
    expect(await statuses(key.key, 2)).toEqual([200, 429]);
  });

  it("a change of a key's own windows holds at once on the other process", async () => {
    const key = await createKey({ rate_limits: [{ window: 'minute', limit: 50 }] });
    const first = await callWith(key.key);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('50');
    const patched = await api.call(
      `/api/v1/keys/${key.id}`,
      as(owner, 'PATCH', { rate_limits: [{ window: 'minute', limit: 2 }] }),
    );
    expect(patched.status).toBe(200);
    // One request of the minute's two is already used.
    const next = await callWith(key.key);
    expect(next.status).toBe(200);
    expect(next.headers.get('x-ratelimit-limit')).toBe('2');
    expect(await statuses(key.key, 1)).toEqual([429]);
  });

  it("a key's narrowed permissions hold at once on the other process", async () => {
    const key = await createKey({ permissions: ['users:read', 'keys:read'] });
    const listKeys = () =>
      deaf.call('/api/v1/keys', { headers: { 'x-api-key': key.key } }).then((r) => r.status);
    expect(await listKeys()).toBe(200);
    const patched = await api.call(
      `/api/v1/keys/${key.id}`,
      as(owner, 'PATCH', { permissions: ['users:read'] }),
    );
    expect(patched.status).toBe(200);
    expect(await listKeys()).toBe(403);
    expect(await statuses(key.key, 1)).toEqual([200]);
  });

  it("an organization's endpoint override holds at once on the other process", async () => {
    const key = await createKey();
    expect(await statuses(key.key, 1)).toEqual([200]);
    const put = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: { '/api/v1/auth/me': { minute: { limit: 2 } } } }),
    );
    expect(put.status).toBe(200);
    // The window starts counting with the override: the earlier request is not in it.
    expect(await statuses(key.key, 3)).toEqual([200, 200, 429]);
  });
});
