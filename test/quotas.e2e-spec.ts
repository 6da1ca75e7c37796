import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually, untilPast } from './support/wait.js';

interface QuotaBody {
  id: string;
  organization_id: string;
  api_key_id: string | null;
  period: string;
  max_requests: number;
  period_start: string | null;
  period_end: string | null;
  current_period_start: string;
  used: number;
  remaining: number;
  resets_at: string;
}

interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> | null };
}

describe('quotas', () => {
  let api: TestApp;
  let other: TestApp;
  let owner: Account;
  let stranger: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    // Two api processes on one Redis; the first also runs the worker's event writer.
    [api, other] = await Promise.all([startApp({ imports: [UsageIngestModule] }), startApp()]);
    [owner, stranger] = await Promise.all([registerOwner(api), registerOwner(api, 'stranger')]);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function createKey(
    body: Record<string, unknown> = {},
    by: Account = owner,
  ): Promise<{ id: string; key: string; quota: QuotaBody | null }> {
    const response = await api.call(
      '/api/v1/keys',
      as(by, 'POST', {
        name: 'quota key',
        environment: 'live',
        permissions: ['users:read', 'keys:read'],
        ...body,
      }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { id: string; key: string; quota: QuotaBody } })
      .data;
  }

  async function createQuota(body: Record<string, unknown>, by: Account = owner) {
    const response = await api.call('/api/v1/quotas', as(by, 'POST', body));
    return { status: response.status, body: (await response.json()) as { data: QuotaBody } };
  }

  async function getQuota(id: string, app: TestApp = api): Promise<QuotaBody> {
    const response = await app.call(`/api/v1/quotas/${id}`, as(owner, 'GET'));
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: QuotaBody }).data;
  }

  const callWith = (app: TestApp, secret: string) =>
    app.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });

  /** A custom period of one minute that ends `endsInMs` from now. */
  function periodEndingIn(endsInMs: number) {
    const end = Date.now() + endsInMs;
    return {
      period: 'custom',
      period_start: new Date(end - 60_000).toISOString(),
      period_end: new Date(end).toISOString(),
    };
  }

  it('creates, reads, changes and deletes quotas with used, remaining and resets_at', async () => {
    const key = await createKey();
    const daily = await createQuota({ api_key_id: key.id, period: 'daily', max_requests: 1000 });
    expect(daily.status).toBe(201);
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    expect(daily.body.data).toMatchObject({
      api_key_id: key.id,
      organization_id: owner.organizationId,
      period: 'daily',
      max_requests: 1000,
      period_start: null,
      used: 0,
      remaining: 1000,
      resets_at: tomorrow.toISOString(),
    });

    expect((await callWith(api, key.key)).status).toBe(200);
    expect((await callWith(other, key.key)).status).toBe(200);
    expect(await getQuota(daily.body.data.id)).toMatchObject({ used: 2, remaining: 998 });

    // A new max keeps the period's count.
    const patched = await api.call(
      `/api/v1/quotas/${daily.body.data.id}`,
      as(owner, 'PATCH', { max_requests: 10 }),
    );
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { data: QuotaBody }).data).toMatchObject({
      max_requests: 10,
      used: 2,
      remaining: 8,
    });

    const monthly = await createQuota({
      organization_id: owner.organizationId,
      period: 'monthly',
      max_requests: 5000,
    });
    expect(monthly.status).toBe(201);
    expect(monthly.body.data.api_key_id).toBeNull();
    const list = await api.call(`/api/v1/quotas?api_key_id=${key.id}`, as(owner, 'GET'));
    const listed = (await list.json()) as { data: QuotaBody[]; total: number };
    expect(listed.total).toBe(1);
    expect(listed.data[0]?.id).toBe(daily.body.data.id);

    const removed = await api.call(`/api/v1/quotas/${daily.body.data.id}`, as(owner, 'DELETE'));
    expect(removed.status).toBe(204);
    expect((await api.call(`/api/v1/quotas/${daily.body.data.id}`, as(owner, 'GET'))).status).toBe(
      404,
    );
    await api.call(`/api/v1/quotas/${monthly.body.data.id}`, as(owner, 'DELETE'));

    const audit = await api.call('/api/v1/audit?limit=100', as(owner, 'GET'));
    const actions = ((await audit.json()) as { data: { action: string }[] }).data.map(
      (entry) => entry.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['quota.created', 'quota.updated', 'quota.deleted']),
    );
  });

  it('refuses bad quotas with 400s naming the field, and other tenants with 404s', async () => {
    const key = await createKey();
    const cases: [Record<string, unknown>, string][] = [
      [{ period: 'daily', max_requests: 10 }, 'api_key_id'],
      [
        {
          api_key_id: key.id,
          organization_id: owner.organizationId,
          period: 'daily',
          max_requests: 10,
        },
        'api_key_id',
      ],
      [{ api_key_id: key.id, period: 'weekly', max_requests: 10 }, 'period'],
      [{ api_key_id: key.id, period: 'daily', max_requests: 0 }, 'max_requests'],
      [{ api_key_id: key.id, period: 'custom', max_requests: 10 }, 'period_start'],
      [
        {
          api_key_id: key.id,
          period: 'daily',
          max_requests: 10,
          period_start: '2026-01-01T00:00:00.000Z',
        },
        'period_start',
      ],
      [
        {
          api_key_id: key.id,
          period: 'custom',
          max_requests: 10,
          period_start: '2026-01-02T00:00:00.000Z',
          period_end: '2026-01-01T00:00:00.000Z',
        },
        'period_end',
      ],
      [{ api_key_id: 'not-a-uuid', period: 'daily', max_requests: 10 }, 'api_key_id'],
      // ISO 8601 week dates pass an ISO check but name no instant Date can read.
      [
        {
          api_key_id: key.id,
          period: 'custom',
          max_requests: 10,
          period_start: '2026-W01',
          period_end: '2026-W05',
        },
        'period_start',
      ],
      [
        {
          api_key_id: key.id,
          period: 'custom',
          max_requests: 10,
          period_start: '2026-02-30T00:00:00Z',
          period_end: '2026-03-30T00:00:00Z',
        },
        'period_start',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await createQuota(body);
      expect([response.status, JSON.stringify(response.body)]).toEqual([
        400,
        expect.stringContaining(`"field":"${field}`),
      ]);
    }

    const strangersKey = await createKey({}, stranger);
    expect(
      (await createQuota({ api_key_id: strangersKey.id, period: 'daily', max_requests: 1 })).status,
    ).toBe(404);
    expect(
      (
        await createQuota({
          organization_id: stranger.organizationId,
          period: 'daily',
          max_requests: 1,
        })
      ).status,
    ).toBe(404);
    const mine = await createQuota({ api_key_id: key.id, period: 'daily', max_requests: 5 });
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { max_requests: 1 }],
      ['DELETE', undefined],
    ] as const) {
      const response = await api.call(
        `/api/v1/quotas/${mine.body.data.id}`,
        as(stranger, method, body),
      );
      expect(response.status).toBe(404);
    }
    expect((await getQuota(mine.body.data.id)).max_requests).toBe(5);

    const member = await addMember(api, owner, 'member');
    const denied = await createQuota(
      { api_key_id: key.id, period: 'daily', max_requests: 1 },
      member,
    );
    expect(denied.status).toBe(403);
    expect((await api.call('/api/v1/quotas', as(member, 'GET'))).status).toBe(200);
  });

  it('stops a key at its quota on every process, with 429 QUOTA_EXCEEDED until the reset, then admits again', async () => {
    const key = await createKey();
    const quota = await createQuota({
      api_key_id: key.id,
      max_requests: 3,
      ...periodEndingIn(4_000),
    });
    expect(quota.status).toBe(201);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await callWith(i % 2 === 0 ? api : other, key.key)).status);
    expect(statuses).toEqual([200, 200, 200]);

    const refused = await callWith(other, key.key);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe('QUOTA_EXCEEDED');
    expect(body.error.details).toMatchObject({
      quota_id: quota.body.data.id,
      limit: 3,
      used: 3,
      resets_at: quota.body.data.resets_at,
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(4);
    expect(refused.headers.get('x-quota-remaining')).toBe('0');
    // A refusal consumes nothing: the rate-limit windows were not charged for it.
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('97');
    const again = await callWith(api, key.key);
    expect(again.status).toBe(429);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('97');
    expect(await getQuota(quota.body.data.id, other)).toMatchObject({ used: 3, remaining: 0 });

    await untilPast(Date.parse(quota.body.data.resets_at));
    const reset = await callWith(api, key.key);
    expect(reset.status).toBe(200);
    expect(reset.headers.get('x-quota-remaining')).toBe('2');
    expect(await getQuota(quota.body.data.id)).toMatchObject({ used: 1, remaining: 2 });
  });

  it("an organization's quota counts every key of it; a change reaches the other process within 1 s", async () => {
    const [first, second] = [await createKey(), await createKey()];
    const quota = await createQuota({
      organization_id: owner.organizationId,
      period: 'daily',
      max_requests: 4,
    });
    expect((await callWith(api, first.key)).status).toBe(200);
    expect((await callWith(other, second.key)).status).toBe(200);
    expect((await callWith(other, first.key)).status).toBe(200);
    expect((await callWith(api, second.key)).status).toBe(200);
    expect((await callWith(other, first.key)).status).toBe(429);
    expect((await callWith(api, second.key)).status).toBe(429);

    // Refusals consume nothing: retry until the change has reached the other process.
    await api.call(`/api/v1/quotas/${quota.body.data.id}`, as(owner, 'PATCH', { max_requests: 5 }));
    await eventually(
      async () => expect((await callWith(other, second.key)).status).toBe(200),
      1_000,
    );
    expect((await callWith(other, second.key)).status).toBe(429);

    await api.call(`/api/v1/quotas/${quota.body.data.id}`, as(owner, 'DELETE'));
    await eventually(
      async () => expect((await callWith(other, first.key)).status).toBe(200),
      1_000,
    );
  });

  it('a key created with `quota` has it from its first request; a bad one creates no key', async () => {
    const before = await api.call('/api/v1/keys?limit=1', as(owner, 'GET'));
    const total = ((await before.json()) as { total: number }).total;
    const bad = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'bad quota',
        environment: 'live',
        permissions: ['users:read'],
        quota: { period: 'custom', max_requests: 5 },
      }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('quota.period_start');
    const after = await api.call('/api/v1/keys?limit=1', as(owner, 'GET'));
    expect(((await after.json()) as { total: number }).total).toBe(total);

    const key = await createKey({ quota: { period: 'monthly', max_requests: 1 } });
    expect(key.quota).toMatchObject({ api_key_id: key.id, period: 'monthly', used: 0 });
    expect((await callWith(other, key.key)).status).toBe(200);
    expect((await callWith(api, key.key)).status).toBe(429);
  });

  it('records quota.warning at 80 % and quota.exceeded once per period, and every refusal in the usage log', async () => {
    const key = await createKey({
      quota: { period: 'daily', max_requests: 5 },
      rate_limits: [{ window: 'hour', limit: 1000 }],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1)
      statuses.push((await callWith(i % 2 === 0 ? api : other, key.key)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

    await eventually(async () => {
      const events: { type: string; payload: { used: number; max_requests: number } }[] =
        await dataSource.query(
          `SELECT type, payload FROM outbox_events
           WHERE organization_id = $1 AND payload->>'quota_id' = $2 ORDER BY created_at`,
          [owner.organizationId, key.quota?.id],
        );
      expect(events.map((event) => [event.type, event.payload.used])).toEqual([
        ['quota.warning', 4],
        ['quota.exceeded', 5],
      ]);
      // The three refusals of one key by one quota: one usage_logs row each, with the quota.
      const refusals: Record<string, string>[] = await dataSource.query(
        `SELECT limit_type, limit_value, current_usage, route, error_code, count(*) AS refusals
         FROM usage_logs WHERE api_key_id = $1 AND limit_type IS NOT NULL
         GROUP BY limit_type, limit_value, current_usage, route, error_code`,
        [key.id],
      );
      expect(refusals).toEqual([
        {
          limit_type: 'quota',
          limit_value: '5',
          current_usage: '5',
          route: '/api/v1/auth/me',
          error_code: 'QUOTA_EXCEEDED',
          refusals: '3',
        },
      ]);
    });
  });

  it('records a window refusal with its window, limit and usage', async () => {
    const key = await createKey({ rate_limits: [{ window: 'minute', limit: 2 }] });
    expect((await callWith(api, key.key)).status).toBe(200);
    expect((await callWith(other, key.key)).status).toBe(200);
    const refused = await callWith(other, key.key);
    expect(refused.status).toBe(429);
    const requestId = refused.headers.get('x-request-id');
    await eventually(async () => {
      const rows: Record<string, unknown>[] = await dataSource.query(
        `SELECT organization_id, user_id, method, status, limit_type, limit_value, current_usage,
                request_id FROM usage_logs WHERE api_key_id = $1 AND limit_type IS NOT NULL`,
        [key.id],
      );
      expect(rows).toEqual([
        {
          organization_id: owner.organizationId,
          user_id: null,
          method: 'GET',
          status: 429,
          limit_type: 'minute',
          limit_value: '2',
          current_usage: '2',
          request_id: requestId,
        },
      ]);
      // The admitted requests carry no limit.
      const [admitted] = await dataSource.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM usage_logs
         WHERE api_key_id = $1 AND status = 200 AND limit_type IS NULL
           AND limit_value IS NULL AND current_usage IS NULL`,
        [key.id],
      );
      expect(admitted?.count).toBe(2);
    });
  });

  it('verify reports and counts the quota', async () => {
    const key = await createKey({ quota: { period: 'daily', max_requests: 2 } });
    const verify = () => api.call('/api/v1/keys/verify', as(owner, 'POST', { key: key.key }));
    const first = (await (await verify()).json()) as {
      data: { valid: boolean; quota: Record<string, unknown> };
    };
    expect(first.data).toMatchObject({
      valid: true,
      quota: { quota_id: key.quota?.id, limit: 2, used: 1, remaining: 1 },
    });
    await verify();
    const third = (await (await verify()).json()) as { data: { valid: boolean; code: string } };
    expect(third.data).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED' });
    expect((await callWith(api, key.key)).status).toBe(429);
  });

  it('reading quotas needs keys:read: a key without it is refused, one with it reads them', async () => {
    const withQuota = await createKey({ quota: { period: 'daily', max_requests: 1_000 } });
    const reader = await createKey({ permissions: ['keys:read'] });
    const outsider = await createKey({ permissions: ['users:read', 'projects:read'] });
    const read = (secret: string, path: string) =>
      api.call(path, { headers: { 'x-api-key': secret } });
    for (const path of ['/api/v1/quotas', `/api/v1/quotas/${withQuota.quota?.id}`]) {
      const refused = await read(outsider.key, path);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('PERMISSION_DENIED');
      expect((await read(reader.key, path)).status).toBe(200);
    }
  });
});
