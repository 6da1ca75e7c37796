import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { registerPlatformAdmin } from './support/platform-admin.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

interface Policy {
  source: string;
  window: string;
  algorithm: string;
  limit: number;
  remaining: number;
  reset_at: string;
  quota_id?: string;
}

interface Explained {
  policies: Policy[];
  deciding: Policy | null;
  next_request: string;
}

describe('GET /rate-limits/explain and limits for bearer tokens', () => {
  let api: TestApp;
  let other: TestApp;
  let owner: Account;

  beforeAll(async () => {
    [api, other] = await Promise.all([startApp(), startApp()]);
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function explain(query: string, by: Account = owner): Promise<Explained> {
    const response = await api.call(`/api/v1/rate-limits/explain?${query}`, as(by, 'GET'));
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: Explained }).data;
  }

  async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'explained',
        environment: 'live',
        permissions: ['users:read'],
        ...body,
      }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { id: string; key: string } }).data;
  }

  it('shows every window and quota of a key, without consuming, and what decides the next request', async () => {
    const key = await createKey({
      rate_limits: [{ window: 'minute', limit: 5 }],
      quota: { period: 'daily', max_requests: 10 },
    });
    const call = (app: TestApp) =>
      app.call('/api/v1/auth/me', { headers: { 'x-api-key': key.key } });
    expect((await call(api)).status).toBe(200);
    expect((await call(other)).status).toBe(200);

    const first = await explain(`api_key_id=${key.id}`);
    expect(first.policies.map((p) => `${p.source}:${p.window}:${p.limit}`)).toEqual([
      'key:minute:5',
      'tier:minute:100',
      'tier:hour:1000',
      'quota:daily:10',
    ]);
    expect(pick(first, 'key', 'minute')).toMatchObject({
      algorithm: 'sliding_window',
      remaining: 3,
    });
    expect(pick(first, 'quota', 'daily')).toMatchObject({ algorithm: 'quota', remaining: 8 });
    expect(first.deciding).toMatchObject({ source: 'key', window: 'minute', remaining: 3 });
    expect(first.next_request).toBe('admitted');
    // Reading consumed nothing.
    expect(pick(await explain(`api_key_id=${key.id}`), 'key', 'minute')?.remaining).toBe(3);

    for (let i = 0; i < 3; i += 1) await call(i % 2 === 0 ? api : other);
    expect((await call(other)).status).toBe(429);
    const full = await explain(`api_key_id=${key.id}`);
    expect(full.next_request).toBe('rate_limited');
    expect(full.deciding).toMatchObject({ source: 'key', window: 'minute', remaining: 0 });
    expect(Date.parse(full.deciding?.reset_at ?? '')).toBeGreaterThan(Date.now());
    expect(pick(full, 'quota', 'daily')?.remaining).toBe(5);
  });

  it("limits users per user with their organization's set, and explains it", async () => {
    const member = await addMember(api, owner, 'member');
    for (let i = 0; i < 3; i += 1) {
      const response = await (i % 2 === 0 ? api : other).call('/api/v1/auth/me', as(member, 'GET'));
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-policy')).toContain('"tier-minute";q=100;w=60');
    }
    const explained = await explain(`user_id=${member.userId}`);
    expect(explained.policies.map((p) => `${p.source}:${p.window}`)).toEqual([
      'tier:minute',
      'tier:hour',
    ]);
    // Three calls here, and the one /auth/me that logging in made.
    expect(pick(explained, 'tier', 'minute')?.remaining).toBe(96);
    // The caller's own counters: this explain request itself was counted.
    const self = await explain('');
    expect(pick(self, 'tier', 'hour')?.remaining).toBeLessThan(1000);
  });

  it("includes an organization's override for the endpoint asked about", async () => {
    const put = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: { '/api/v1/projects': { second: { limit: 7 } } } }),
    );
    expect(put.status).toBe(200);
    const explained = await explain('endpoint=/api/v1/projects');
    expect(pick(explained, 'endpoint', 'second')).toMatchObject({ limit: 7, remaining: 7 });
    expect(pick(await explain(''), 'endpoint', 'second')).toBeUndefined();
  });

  it('answers 400, 403 and 404 as it should', async () => {
    const stranger = await registerOwner(api, 'stranger');
    const strangersKey = await api.call(
      '/api/v1/keys',
      as(stranger, 'POST', { name: 'x', environment: 'live', permissions: ['users:read'] }),
    );
    const strangerKeyId = ((await strangersKey.json()) as { data: { id: string } }).data.id;
    const status = async (query: string, init: RequestInit = as(owner, 'GET')) =>
      (await api.call(`/api/v1/rate-limits/explain?${query}`, init)).status;
    expect(await status(`api_key_id=${strangerKeyId}`)).toBe(404);
    expect(await status(`user_id=${stranger.userId}`)).toBe(404);
    expect(await status(`api_key_id=${strangerKeyId}&user_id=${owner.userId}`)).toBe(400);
    expect(await status('api_key_id=nope')).toBe(400);
    expect(await status('endpoint=users')).toBe(400);
    const projectsOnly = await createKey({ permissions: ['projects:read'] });
    expect(
      await status(`user_id=${owner.userId}`, { headers: { 'x-api-key': projectsOnly.key } }),
    ).toBe(403);
    expect(await status('', { headers: { 'x-api-key': projectsOnly.key } })).toBe(200);
  });
});

const pick = (explained: Explained, source: string, window: string) =>
  explained.policies.find((policy) => policy.source === source && policy.window === window);

describe('a tier change', () => {
  it('reaches the windows of every process within a second', async () => {
    const [api, other] = await Promise.all([startApp(), startApp()]);
    try {
      const admin = await registerPlatformAdmin(api);
      const tierMinute = async () => {
        const response = await other.call('/api/v1/rate-limits/explain', as(admin, 'GET'));
        const { data } = (await response.json()) as { data: Explained };
        return pick(data, 'tier', 'minute')?.limit;
      };
      expect(await tierMinute()).toBe(100);
      const patched = await api.call(
        `/api/v1/organizations/${admin.organizationId}`,
        as(admin, 'PATCH', { tier: 'professional' }),
      );
      expect(patched.status).toBe(200);
      await eventually(async () => expect(await tierMinute()).toBe(1_000), 1_000);
    } finally {
      await Promise.all([api.close(), other.close()]);
    }
  });
});
