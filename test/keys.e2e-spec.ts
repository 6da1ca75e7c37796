import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REDIS, type RedisClient } from '../src/redis/redis-client.js';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import { redisText } from './support/redis-text.js';
import { eventually, untilPast } from './support/wait.js';

interface KeyBody {
  id: string;
  key?: string;
  prefix: string;
  status: string;
  permissions: string[];
}

interface ErrorBody {
  error: { code: string; details: Record<string, unknown> | null };
}

describe('API keys', () => {
  let api: TestApp;
  let other: TestApp;
  let owner: Account;

  beforeAll(async () => {
    // Two api processes' worth of app on one Postgres and one Redis.
    [api, other] = await Promise.all([startApp(), startApp()]);
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function createKey(
    body: Record<string, unknown> = {},
    by: Account = owner,
  ): Promise<KeyBody & { key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(by, 'POST', {
        name: 'test key',
        environment: 'live',
        permissions: ['users:read', 'projects:read'],
        ...body,
      }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: KeyBody & { key: string } }).data;
  }

  const withKey = (secret: string, init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), 'x-api-key': secret },
  });

  /** What the key's own window has left, read through explain (which consumes nothing). */
  async function tokensLeft(keyId: string): Promise<number> {
    const response = await api.call(
      `/api/v1/rate-limits/explain?api_key_id=${keyId}`,
      as(owner, 'GET'),
    );
    const { data } = (await response.json()) as {
      data: { policies: { source: string; remaining: number }[] };
    };
    const own = data.policies.find((policy) => policy.source === 'key');
    if (own === undefined) throw new Error('the key has no window of its own');
    return own.remaining;
  }

  async function codeOf(response: Response): Promise<string> {
    return ((await response.json()) as ErrorBody).error.code;
  }

  it('an idempotent create is stored sealed: no secret in Redis, and the replay gives the same one', async () => {
    const idempotencyKey = randomUUID();
    const request = () =>
      api.call(
        '/api/v1/keys',
        json(
          'POST',
          { name: 'sealed', environment: 'live', permissions: ['users:read'] },
          { ...owner.auth, 'idempotency-key': idempotencyKey },
        ),
      );
    const first = await request();
    expect(first.status).toBe(201);
    const { key } = ((await first.json()) as { data: { key: string } }).data;
    const replay = await request();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as { data: { key: string } }).data.key).toBe(key);

    // Everything this run keeps in Redis: under REDIS_PREFIX, and BullMQ's `{QUEUE_PREFIX}`.
    const redis = api.app.get<RedisClient>(REDIS);
    const prefix = redis.options.keyPrefix ?? '';
    expect(prefix).toMatch(/^gh-test-/);
    const run = prefix.replace(/:$/, '');
    const stored = await redisText(redis, [`${run}*`, `{${run}}*`], prefix);
    expect(stored.idempotency).toBeGreaterThan(0);
    expect(stored.text).not.toContain(key);
    expect(stored.text).not.toContain(key.slice('sk_live_'.length));
    expect(stored.text).not.toContain('sk_');
  });

  it('shows the secret once; list and get show only its prefix', async () => {
    const created = await createKey();
    expect(created.key).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(created.prefix).toBe(created.key.slice(0, 14));
    const got = await api.call(`/api/v1/keys/${created.id}`, as(owner, 'GET'));
    const text = await got.text();
    expect(text).not.toContain(created.key);
    expect((JSON.parse(text) as { data: KeyBody }).data).toMatchObject({
      id: created.id,
      status: 'active',
    });
    const list = await api.call('/api/v1/keys', as(owner, 'GET'));
    expect(await list.text()).not.toContain(created.key);
  });

  it('authenticates management routes with its scopes, and /me says who it is', async () => {
    const created = await createKey({ name: 'reader' });
    const me = await api.call('/api/v1/auth/me', withKey(created.key));
    expect(me.status).toBe(200);
    expect(((await me.json()) as { data: unknown }).data).toMatchObject({
      type: 'api_key',
      id: created.id,
      name: 'reader',
      organization_id: owner.organizationId,
      environment: 'live',
      permissions: ['users:read', 'projects:read'],
    });
    expect((await api.call('/api/v1/users', withKey(created.key))).status).toBe(200);
    const write = await api.call(
      '/api/v1/projects',
      withKey(created.key, json('POST', { name: 'nope' })),
    );
    expect(write.status).toBe(403);
    expect(await codeOf(write)).toBe('PERMISSION_DENIED');
  });

  it('the audit trail names the key as the actor', async () => {
    const writer = await createKey({ permissions: ['projects:write', 'projects:read'] });
    const created = await api.call(
      '/api/v1/projects',
      withKey(writer.key, json('POST', { name: 'By a key' })),
    );
    expect(created.status).toBe(201);
    const { data: project } = (await created.json()) as { data: { id: number } };
    const audit = await api.call(
      `/api/v1/audit?target_type=project&target_id=${project.id}`,
      as(owner, 'GET'),
    );
    const { data } = (await audit.json()) as { data: { actor: unknown }[] };
    expect(data[0]?.actor).toEqual({ type: 'api_key', id: writer.id });
  });

  it('401 API_KEY_INVALID for malformed, mistyped and unknown keys', async () => {
    const created = await createKey();
    const flipped = created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A');
    for (const secret of [
      'nope',
      'sk_live_short',
      flipped,
      created.key.replace('sk_live_', 'sk_test_'),
    ]) {
      const response = await api.call('/api/v1/auth/me', withKey(secret));
      expect(response.status).toBe(401);
      expect(await codeOf(response)).toBe('API_KEY_INVALID');
    }
  });

  it('403 IP_NOT_ALLOWED outside allowed_ips; inside it works', async () => {
    const elsewhere = await createKey({ allowed_ips: ['203.0.113.0/24', '2001:db8::/32'] });
    const denied = await api.call('/api/v1/auth/me', withKey(elsewhere.key));
    expect(denied.status).toBe(403);
    expect(await codeOf(denied)).toBe('IP_NOT_ALLOWED');
    const local = await createKey({ allowed_ips: ['127.0.0.0/8'] });
    expect((await api.call('/api/v1/auth/me', withKey(local.key))).status).toBe(200);
  });

  it('401 API_KEY_EXPIRED after expires_at; an expiry in the past is refused', async () => {
    const past = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'x',
        environment: 'live',
        permissions: ['users:read'],
        expires_at: '2020-01-01T00:00:00Z',
      }),
    );
    expect(past.status).toBe(400);
    const expiresAt = Date.now() + 1_500;
    const soon = await createKey({ expires_at: new Date(expiresAt).toISOString() });
    expect((await api.call('/api/v1/auth/me', withKey(soon.key))).status).toBe(200);
    await untilPast(expiresAt);
    const expired = await api.call('/api/v1/auth/me', withKey(soon.key));
    expect(expired.status).toBe(401);
    expect(await codeOf(expired)).toBe('API_KEY_EXPIRED');
  });

  it('revocation is seen by the other process on its very next request', async () => {
    const created = await createKey();
    expect((await other.call('/api/v1/auth/me', withKey(created.key))).status).toBe(200); // cached there now
    const revoke = await api.call(`/api/v1/keys/${created.id}/revoke`, as(owner, 'POST'));
    expect(revoke.status).toBe(200);
    expect(((await revoke.json()) as { data: KeyBody }).data.status).toBe('revoked');
    const next = await other.call('/api/v1/auth/me', withKey(created.key));
    expect(next.status).toBe(401);
    expect(await codeOf(next)).toBe('API_KEY_REVOKED');
  });

  it('DELETE revokes and hides the key', async () => {
    const created = await createKey();
    expect((await api.call(`/api/v1/keys/${created.id}`, as(owner, 'DELETE'))).status).toBe(204);
    expect((await api.call(`/api/v1/keys/${created.id}`, as(owner, 'GET'))).status).toBe(404);
    const used = await other.call('/api/v1/auth/me', withKey(created.key));
    expect(await codeOf(used)).toBe('API_KEY_REVOKED');
  });

  it('rotation: a new secret at once; the old one works until the grace period ends', async () => {
    const created = await createKey();
    expect((await other.call('/api/v1/auth/me', withKey(created.key))).status).toBe(200);
    const rotated = await api.call(
      `/api/v1/keys/${created.id}/rotate`,
      as(owner, 'POST', { grace_period_seconds: 2 }),
    );
    // The grace period started before the answer came back.
    const graceEnds = Date.now() + 2_000;
    expect(rotated.status).toBe(201);
    const { data } = (await rotated.json()) as { data: KeyBody & { key: string } };
    expect(data.key).not.toBe(created.key);
    for (const app of [api, other]) {
      expect((await app.call('/api/v1/auth/me', withKey(data.key))).status).toBe(200);
      expect((await app.call('/api/v1/auth/me', withKey(created.key))).status).toBe(200);
    }
    await untilPast(graceEnds);
    for (const app of [api, other]) {
      const old = await app.call('/api/v1/auth/me', withKey(created.key));
      expect(old.status).toBe(401);
      expect((await app.call('/api/v1/auth/me', withKey(data.key))).status).toBe(200);
    }
  });

  it('a key never gets a permission its creator lacks', async () => {
    const admin = await addMember(api, owner, 'admin');
    const response = await api.call(
      '/api/v1/keys',
      as(admin, 'POST', { name: 'escalate', environment: 'live', permissions: ['org:delete'] }),
    );
    expect(response.status).toBe(403);
  });

  it("nor gets a stronger key's secret by rotating it: 403, and the key's secret unchanged", async () => {
    const admin = await addMember(api, owner, 'admin');
    const strong = await createKey({ permissions: ['admin'] });
    const narrow = await createKey({ permissions: ['keys:read', 'keys:write'] });
    for (const by of [admin.auth, { 'x-api-key': narrow.key }]) {
      const response = await api.call(
        `/api/v1/keys/${strong.id}/rotate`,
        json('POST', { grace_period_seconds: 0 }, by),
      );
      expect(response.status).toBe(403);
      expect(((await response.json()) as ErrorBody).error.code).toBe('PERMISSION_DENIED');
    }
    const me = await api.call('/api/v1/auth/me', { headers: { 'x-api-key': strong.key } });
    expect(me.status).toBe(200);
    // A key the admin could have made itself, the admin may rotate.
    const own = await createKey({ permissions: ['keys:read'] });
    const rotated = await api.call(`/api/v1/keys/${own.id}/rotate`, as(admin, 'POST', {}));
    expect(rotated.status).toBe(201);
  });

  it('sends rate-limit headers, and 429 with Retry-After and details at the key limit', async () => {
    const limited = await createKey({ rate_limits: [{ window: 'minute', limit: 3 }] });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await api.call('/api/v1/auth/me', withKey(limited.key));
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('x-ratelimit-limit')).toBe('3');
        expect(last.headers.get('x-ratelimit-remaining')).toBe('2');
        expect(last.headers.get('x-ratelimit-window')).toBe('60');
        // Epoch seconds (as README says), within the minute window from now.
        const reset = last.headers.get('x-ratelimit-reset') ?? '';
        expect(reset).toMatch(/^\d+$/);
        expect(Number(reset)).toBeGreaterThan(Date.now() / 1000);
        expect(Number(reset)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
        expect(last.headers.get('ratelimit-policy')).toContain('"key-minute";q=3;w=60');
        expect(last.headers.get('ratelimit')).toMatch(/^"key-minute";r=2;t=\d+$/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await last?.json()) as ErrorBody;
    expect(body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(body.error.details).toMatchObject({ limit: 3, current: 3, window: 60 });
  });

  it("a limit change keeps the window's history: raising 3/minute to 5 admits 2 more, not 5", async () => {
    const key = await createKey({ rate_limits: [{ window: 'minute', limit: 3 }] });
    const call = () => other.call('/api/v1/auth/me', withKey(key.key));
    for (let i = 0; i < 3; i += 1) expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(429);
    const patched = await api.call(
      `/api/v1/keys/${key.id}`,
      as(owner, 'PATCH', { rate_limits: [{ window: 'minute', limit: 5 }] }),
    );
    expect(patched.status).toBe(200);
    // Refused requests consume nothing: retry until the other process has the new limit.
    await eventually(async () => expect((await call()).status).toBe(200));
    const statuses = [];
    for (let i = 0; i < 2; i += 1) statuses.push((await call()).status);
    expect(statuses).toEqual([200, 429]);
  });

  it('token bucket: a burst of `limit` across both processes, then one request per refill', async () => {
    // 2 tokens, refilled at 2 a second: one every 500 ms.
    const bucket = await createKey({
      rate_limits: [{ window: 'second', limit: 2, algorithm: 'token_bucket' }],
    });
    await Promise.all([api, other].map((app) => app.call('/api/v1/auth/me', withKey(bucket.key))));
    // Both tokens went on warming the caches; wait for a full bucket, then burst.
    await eventually(async () => expect(await tokensLeft(bucket.id)).toBe(2));
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? api : other).call('/api/v1/auth/me', withKey(bucket.key)),
      ),
    );
    expect(burst.filter((response) => response.status === 200)).toHaveLength(2);
    const refused = burst.find((response) => response.status === 429);
    expect(Number(refused?.headers.get('retry-after'))).toBe(1);
    await eventually(async () => expect(await tokensLeft(bucket.id)).toBeGreaterThanOrEqual(1));
    expect((await other.call('/api/v1/auth/me', withKey(bucket.key))).status).toBe(200);
    expect((await api.call('/api/v1/auth/me', withKey(bucket.key))).status).toBe(429);
  });

  it('admits exactly the limit of concurrent requests split across two processes', async () => {
    const limited = await createKey({ rate_limits: [{ window: 'minute', limit: 40 }] });
    // Warm both caches so the burst measures the limiter, not the first lookup.
    await Promise.all([api, other].map((app) => app.call('/api/v1/auth/me', withKey(limited.key))));
    const responses = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        (i % 2 === 0 ? api : other).call('/api/v1/auth/me', withKey(limited.key)),
      ),
    );
    const admitted = responses.filter((response) => response.status === 200).length;
    expect(admitted).toBe(38);
    expect(responses.filter((response) => response.status === 429)).toHaveLength(82);
  });

  it('400 for two limits on one window and for nulls on PATCH; 409 for rotating a revoked key', async () => {
    const twice = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'dup',
        environment: 'live',
        permissions: ['users:read'],
        rate_limits: [
          { window: 'minute', limit: 5 },
          { window: 'minute', limit: 20_000 },
        ],
      }),
    );
    expect(twice.status).toBe(400);
    const created = await createKey();
    for (const body of [{ name: null }, { permissions: null }, { allowed_ips: null }]) {
      expect((await api.call(`/api/v1/keys/${created.id}`, as(owner, 'PATCH', body))).status).toBe(
        400,
      );
    }
    await api.call(`/api/v1/keys/${created.id}/revoke`, as(owner, 'POST'));
    const rotate = await api.call(`/api/v1/keys/${created.id}/rotate`, as(owner, 'POST', {}));
    expect(rotate.status).toBe(409);
  });

  it('deleting the organization refuses its keys on every process at once', async () => {
    const doomed = await registerOwner(api, 'doomedorg');
    const key = await createKey({}, doomed);
    expect((await other.call('/api/v1/auth/me', withKey(key.key))).status).toBe(200);
    expect(
      (await api.call(`/api/v1/organizations/${doomed.organizationId}`, as(doomed, 'DELETE')))
        .status,
    ).toBe(204);
    const after = await other.call('/api/v1/auth/me', withKey(key.key));
    expect(after.status).toBe(401);
  });

  describe('POST /keys/verify', () => {
    interface Verified {
      valid: boolean;
      code?: string;
      key_id: string | null;
      ratelimit: { limit: number; remaining: number; reset: number } | null;
    }

    async function verify(body: Record<string, unknown>, by: Account = owner): Promise<Verified> {
      const response = await api.call('/api/v1/keys/verify', as(by, 'POST', body));
      expect(response.status).toBe(200);
      return ((await response.json()) as { data: Verified }).data;
    }

    it('reports a valid key with its limits, and counts against them', async () => {
      const checked = await createKey({ rate_limits: [{ window: 'minute', limit: 2 }] });
      const first = await verify({ key: checked.key });
      expect(first).toMatchObject({
        valid: true,
        key_id: checked.id,
        ratelimit: { limit: 2, remaining: 1 },
      });
      expect(first.code).toBeUndefined();
      expect((await verify({ key: checked.key })).valid).toBe(true);
      const third = await verify({ key: checked.key });
      expect(third).toMatchObject({
        valid: false,
        code: 'RATE_LIMIT_EXCEEDED',
        ratelimit: { remaining: 0 },
      });
      // The key's own requests share those counters.
      expect((await api.call('/api/v1/auth/me', withKey(checked.key))).status).toBe(429);
    });

    it('answers 200 with the code for malformed, unknown, foreign, revoked and under-permitted keys', async () => {
      const foreignOwner = await registerOwner(api, 'foreign');
      const foreign = await createKey({}, foreignOwner);
      const revoked = await createKey();
      await api.call(`/api/v1/keys/${revoked.id}/revoke`, as(owner, 'POST'));
      const reader = await createKey({ permissions: ['users:read'] });
      expect(await verify({ key: 'not a key' })).toMatchObject({
        valid: false,
        code: 'API_KEY_INVALID',
        key_id: null,
      });
      expect(await verify({ key: foreign.key })).toMatchObject({
        valid: false,
        code: 'API_KEY_INVALID',
        key_id: null,
      });
      expect(await verify({ key: revoked.key })).toMatchObject({
        valid: false,
        code: 'API_KEY_REVOKED',
      });
      expect(await verify({ key: reader.key, permissions: ['projects:write'] })).toMatchObject({
        valid: false,
        code: 'PERMISSION_DENIED',
      });
      expect((await verify({ key: reader.key, permissions: ['users:read'] })).valid).toBe(true);
    });

    it('needs keys:read', async () => {
      const viewerKey = await createKey({ permissions: ['users:read'] });
      const response = await api.call(
        '/api/v1/keys/verify',
        withKey(viewerKey.key, json('POST', { key: viewerKey.key })),
      );
      expect(response.status).toBe(403);
    });
  });
});
