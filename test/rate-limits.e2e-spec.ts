import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, as, registerOwner } from './support/identity.js';
import { registerPlatformAdmin } from './support/platform-admin.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

interface Policies {
  global: Record<string, { limit: number; algorithm: string }>;
  tiers: Record<string, Record<string, { limit: number }>>;
  organization: Record<string, { limit: number; algorithm: string }> | null;
  endpoints: Record<string, Record<string, { limit: number }>>;
}

interface ExplainedPolicy {
  source: string;
  window: string;
  limit: number;
  remaining: number;
}

interface ErrorBody {
  error: { code: string; message: string; details: { field: string; message: string }[] };
}

/** Two api processes sharing one database and Redis, and a way to make platform administrators. */
async function startPlatform() {
  const [api, other] = await Promise.all([startApp(), startApp()]);
  /** A new platform administrator, owning an organization of their own (free tier). */
  const admin = (): Promise<Account> => registerPlatformAdmin(api);
  return { api, other, admin };
}

async function createKey(
  api: TestApp,
  account: Account,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return api.call(
    '/api/v1/keys',
    as(account, 'POST', {
      name: 'plan',
      environment: 'live',
      permissions: ['users:read'],
      ...extra,
    }),
  );
}

async function secretOf(response: Response): Promise<{ id: string; key: string }> {
  expect(response.status).toBe(201);
  return ((await response.json()) as { data: { id: string; key: string } }).data;
}

async function explainKey(api: TestApp, account: Account, keyId: string): Promise<string[]> {
  const response = await api.call(
    `/api/v1/rate-limits/explain?api_key_id=${keyId}`,
    as(account, 'GET'),
  );
  expect(response.status).toBe(200);
  const { policies } = ((await response.json()) as { data: { policies: ExplainedPolicy[] } }).data;
  return policies.map((p) => `${p.source}:${p.window}:${p.limit}`);
}

describe('rate-limit policies', () => {
  let api: TestApp;
  let other: TestApp;
  let owner: Account;
  let platformAdmin: Account;

  beforeAll(async () => {
    [api, other] = await Promise.all([startApp(), startApp()]);
    owner = await registerOwner(api);
    platformAdmin = await registerPlatformAdmin(api);
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function policies(account: Account): Promise<Policies> {
    const response = await api.call('/api/v1/rate-limits', as(account, 'GET'));
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: Policies }).data;
  }

  it('shows the documented defaults', async () => {
    const current = await policies(owner);
    expect(current.global).toEqual({
      minute: { limit: 100, algorithm: 'sliding_window' },
      hour: { limit: 1_000, algorithm: 'sliding_window' },
    });
    for (const tier of ['free', 'standard']) expect(current.tiers[tier]).toEqual(current.global);
    expect(current.tiers.professional).toEqual({
      minute: { limit: 1_000, algorithm: 'sliding_window' },
      hour: { limit: 20_000, algorithm: 'sliding_window' },
    });
    expect(current.tiers.enterprise).toEqual({});
    expect(current.organization).toBeNull();
    expect(current.endpoints).toEqual({});
  });

  it('a null or mistyped part of the PUT body is a 400, never a 500', async () => {
    const bodies: unknown[] = [
      { endpoints: null },
      { global: null },
      { tiers: null },
      { endpoints: [] },
      { global: 'fast' },
      { tiers: { free: null } },
      { tiers: { free: [] } },
      { endpoints: { '/api/v1/users': null } },
      { endpoints: { '/api/v1/users': { minute: null } } },
      { global: { minute: 5 } },
      { global: { minute: { limit: '5' } } },
      { global: { minute: { limit: 5, algorithm: null } } },
    ];
    for (const body of bodies) {
      const response = await api.call('/api/v1/rate-limits', as(platformAdmin, 'PUT', body));
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(((await response.json()) as ErrorBody).error.code).toBe('VALIDATION_ERROR');
    }
    const endpointsNull = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: null }),
    );
    expect(endpointsNull.status).toBe(400);
    expect((await policies(owner)).global.minute?.limit).toBe(100);
  });

  it('holds at most 100 endpoint overrides per organization', async () => {
    const routes = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`/api/v1/route${i}`, { minute: { limit: 10 } }]),
      );
    const tooMany = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: routes(101) }),
    );
    expect(tooMany.status).toBe(400);
    const error = ((await tooMany.json()) as ErrorBody).error;
    expect(error.details).toEqual([
      { field: 'endpoints', message: expect.stringContaining('100') as unknown },
    ]);
    const hundred = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: routes(100) }),
    );
    expect(hundred.status).toBe(200);
    expect(Object.keys((await policies(owner)).endpoints)).toHaveLength(100);
    const cleared = await api.call('/api/v1/rate-limits', as(owner, 'PUT', { endpoints: {} }));
    expect(cleared.status).toBe(200);
  });

  it('global and tier changes are for platform administrators; bad policies are 400 with fields', async () => {
    const denied = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { global: { minute: { limit: 5 } } }),
    );
    expect(denied.status).toBe(403);
    const bad = await api.call(
      '/api/v1/rate-limits',
      as(platformAdmin, 'PUT', {
        global: { fortnight: { limit: 5 }, minute: { limit: 0, algorithm: 'magic' } },
      }),
    );
    expect(bad.status).toBe(400);
    const fields = (
      (await bad.json()) as { error: { details: { field: string }[] } }
    ).error.details.map((d) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'global.fortnight',
        'global.minute.limit',
        'global.minute.algorithm',
      ]),
    );

    const raised = await api.call(
      '/api/v1/rate-limits',
      as(platformAdmin, 'PUT', { tiers: { enterprise: { minute: { limit: 50_000 } } } }),
    );
    expect(raised.status).toBe(200);
    expect((await policies(owner)).tiers.enterprise?.minute?.limit).toBe(50_000);
  });

  it("an organization's endpoint override applies on that route only, on every process within a second", async () => {
    const created = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'endpoint', environment: 'live', permissions: ['users:read'] }),
    );
    const secret = ((await created.json()) as { data: { key: string } }).data.key;
    const put = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: { '/api/v1/auth/me': { minute: { limit: 2 } } } }),
    );
    expect(put.status).toBe(200);
    expect(
      ((await put.json()) as { data: Policies }).data.endpoints['/api/v1/auth/me']?.minute?.limit,
    ).toBe(2);

    // The other process reads its own in-memory copy: it must have the change within a second.
    const started = Date.now();
    let propagatedMs = Infinity;
    while (Date.now() - started < 1_000) {
      const seen = await other.call('/api/v1/rate-limits', as(owner, 'GET'));
      if (
        ((await seen.json()) as { data: Policies }).data.endpoints['/api/v1/auth/me'] !== undefined
      ) {
        propagatedMs = Date.now() - started;
        break;
      }
    }
    expect(propagatedMs).toBeLessThan(1_000);
    const statuses = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push(
        (await other.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } })).status,
      );
    expect(statuses).toEqual([200, 200, 429]);
    expect((await other.call('/api/v1/users', { headers: { 'x-api-key': secret } })).status).toBe(
      200,
    );

    const audit = await api.call('/api/v1/audit?action=rate_limits.updated', as(owner, 'GET'));
    expect(((await audit.json()) as { total: number }).total).toBe(3);
  });

  it('an endpoint change re-reads only its organization, on every process', async () => {
    const { OrganizationLimitsStore } =
      await import('../src/modules/rate-limit/organization-limits-store.js');
    const bystander = await registerOwner(api, 'bystander');
    const store = other.app.get(OrganizationLimitsStore);
    // Both organizations' limits are in the other process's memory.
    expect((await other.call('/api/v1/auth/me', as(bystander, 'GET'))).status).toBe(200);
    expect((await other.call('/api/v1/auth/me', as(owner, 'GET'))).status).toBe(200);
    expect(store.limitsOf(bystander.organizationId)).not.toBeInstanceOf(Promise);
    const put = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { endpoints: { '/api/v1/projects': { minute: { limit: 50 } } } }),
    );
    expect(put.status).toBe(200);
    // The owner's organization is dropped (read again on its next request); the other one is not.
    await eventually(() => {
      expect(store.limitsOf(owner.organizationId)).toBeInstanceOf(Promise);
      return Promise.resolve();
    }, 1_000);
    expect(store.limitsOf(bystander.organizationId)).not.toBeInstanceOf(Promise);
    expect((await store.limitsOf(owner.organizationId))?.endpoints).toHaveProperty(
      '/api/v1/projects',
    );
  });
});

describe('limits follow the organization plan', () => {
  let api: TestApp;
  let other: TestApp;
  let admin: () => Promise<Account>;

  beforeAll(async () => {
    ({ api, other, admin } = await startPlatform());
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  const me = (app: TestApp, secret: string) =>
    app.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });

  async function patchOrganization(account: Account, body: unknown): Promise<Response> {
    return api.call(`/api/v1/organizations/${account.organizationId}`, as(account, 'PATCH', body));
  }

  it("moving an organization to professional raises its keys' limits on every process within a second", async () => {
    const platform = await admin();
    const { key } = await secretOf(await createKey(api, platform));
    // free: 100 a minute, whichever process answers.
    for (let i = 0; i < 100; i += 1) {
      const response = await me(i % 2 === 0 ? api : other, key);
      expect({ i, status: response.status }).toEqual({ i, status: 200 });
    }
    const capped = await me(other, key);
    expect(capped.status).toBe(429);
    expect(capped.headers.get('x-ratelimit-limit')).toBe('100');

    const patched = await patchOrganization(platform, { tier: 'professional' });
    expect(patched.status).toBe(200);
    const started = Date.now();
    let raisedAfterMs = Infinity;
    while (Date.now() - started < 2_000) {
      if ((await me(other, key)).status === 200) {
        raisedAfterMs = Date.now() - started;
        break;
      }
    }
    expect(raisedAfterMs).toBeLessThan(1_000);
    // 150 admitted within the minute where 100 was the cap, on both processes.
    for (let i = 102; i <= 150; i += 1) {
      const response = await me(i % 2 === 0 ? api : other, key);
      expect({ i, status: response.status }).toEqual({ i, status: 200 });
      expect(response.headers.get('ratelimit-policy')).toBe(
        '"tier-minute";q=1000;w=60, "tier-hour";q=20000;w=3600',
      );
    }
  });

  it("an organization's own set replaces its tier's; null gives the tier back", async () => {
    const platform = await admin();
    expect((await patchOrganization(platform, { tier: 'professional' })).status).toBe(200);
    const { id, key } = await secretOf(await createKey(api, platform));
    const patched = await patchOrganization(platform, {
      rate_limits: { minute: { limit: 3 }, day: { limit: 10_000, algorithm: 'sliding_window' } },
    });
    expect(patched.status).toBe(200);
    const own = {
      minute: { limit: 3, algorithm: 'sliding_window' },
      day: { limit: 10_000, algorithm: 'sliding_window' },
    };
    expect(((await patched.json()) as { data: { rate_limits: unknown } }).data.rate_limits).toEqual(
      own,
    );
    await eventually(async () => {
      expect(await explainKey(other, platform, id)).toEqual([
        'organization:minute:3',
        'organization:day:10000',
      ]);
    }, 1_000);
    const shown = await other.call('/api/v1/rate-limits', as(platform, 'GET'));
    expect(((await shown.json()) as { data: Policies }).data.organization).toEqual(own);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await me(i % 2 ? api : other, key)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    expect((await patchOrganization(platform, { rate_limits: null })).status).toBe(200);
    await eventually(async () => {
      expect(await explainKey(other, platform, id)).toEqual([
        'tier:minute:1000',
        'tier:hour:20000',
      ]);
    }, 1_000);
    expect((await me(other, key)).status).toBe(200);

    // Read after the own set is cleared: its 3 a minute also held the administrator's own calls.
    const audit = await api.call(
      `/api/v1/audit?action=organization.updated&target_id=${platform.organizationId}`,
      as(platform, 'GET'),
    );
    const entries = ((await audit.json()) as { data: { changes: Record<string, unknown> }[] }).data;
    expect(entries.some((entry) => 'rate_limits' in entry.changes)).toBe(true);
  });

  it("only platform administrators set an organization's own set; bad sets are 400", async () => {
    const platform = await admin();
    const owner = await registerOwner(api);
    const denied = await patchOrganization(owner, { rate_limits: { minute: { limit: 10_000 } } });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as ErrorBody).error.code).toBe('PERMISSION_DENIED');
    expect((await patchOrganization(owner, { rate_limits: null })).status).toBe(403);
    for (const rateLimits of [
      {},
      { minute: { limit: 0 } },
      { minute: null },
      { fortnight: { limit: 5 } },
      { minute: { limit: 5, burst: 2 } },
      'fast',
      [],
    ]) {
      const response = await patchOrganization(platform, { rate_limits: rateLimits });
      expect({ rateLimits, status: response.status }).toEqual({ rateLimits, status: 400 });
    }
  });

  interface OrganizationBody {
    data: {
      id: string;
      name: string;
      slug: string;
      tier: string;
      rate_limits: unknown;
      role: string | null;
    };
  }

  /** A call by `account` on another organization's `/organizations/{id}`. */
  const onOrganization = (
    account: Account,
    organizationId: string,
    method: string,
    body?: unknown,
    app: TestApp = api,
  ) => app.call(`/api/v1/organizations/${organizationId}`, as(account, method, body));

  it("a platform administrator moves ANOTHER organization to professional: its keys' limits rise on every process within a second", async () => {
    const platform = await admin();
    const owner = await registerOwner(api);
    const { key } = await secretOf(await createKey(api, owner));
    for (let i = 0; i < 100; i += 1) {
      const response = await me(i % 2 === 0 ? api : other, key);
      expect({ i, status: response.status }).toEqual({ i, status: 200 });
    }
    const capped = await me(other, key);
    expect(capped.status).toBe(429);
    expect(capped.headers.get('x-ratelimit-limit')).toBe('100');

    const patched = await onOrganization(platform, owner.organizationId, 'PATCH', {
      tier: 'professional',
    });
    expect(patched.status).toBe(200);
    // That organization's representation; the administrator is no member of it.
    expect((await patched.json()) as OrganizationBody).toMatchObject({
      data: { id: owner.organizationId, tier: 'professional', rate_limits: null, role: null },
    });
    const started = Date.now();
    let raisedAfterMs = Infinity;
    while (Date.now() - started < 2_000) {
      if ((await me(other, key)).status === 200) {
        raisedAfterMs = Date.now() - started;
        break;
      }
    }
    expect(raisedAfterMs).toBeLessThan(1_000);
    for (let i = 102; i <= 150; i += 1) {
      const response = await me(i % 2 === 0 ? api : other, key);
      expect({ i, status: response.status }).toEqual({ i, status: 200 });
      expect(response.headers.get('x-ratelimit-limit')).toBe('1000');
    }

    // Audited in that organization's trail (read by its owner), the administrator as actor.
    const audit = await api.call(
      `/api/v1/audit?action=organization.updated&target_id=${owner.organizationId}`,
      as(owner, 'GET'),
    );
    expect(audit.status).toBe(200);
    const entries = (
      (await audit.json()) as {
        data: {
          actor: { type: string; id: string };
          organization_id: string;
          changes: Record<string, unknown>;
        }[];
      }
    ).data;
    expect(entries).toEqual([
      expect.objectContaining({
        actor: { type: 'user', id: platform.userId },
        organization_id: owner.organizationId,
        changes: { tier: { from: 'free', to: 'professional' } },
      }),
    ]);
    // Not in the administrator's own organization's trail.
    const own = await api.call(
      `/api/v1/audit?action=organization.updated&target_id=${owner.organizationId}`,
      as(platform, 'GET'),
    );
    expect(((await own.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("a platform administrator sets, reads and clears another organization's own set, and changes nothing else of it", async () => {
    const platform = await admin();
    const owner = await registerOwner(api);
    const { id } = await secretOf(await createKey(api, owner));
    const set = { minute: { limit: 50, algorithm: 'sliding_window' } };
    const patched = await onOrganization(platform, owner.organizationId, 'PATCH', {
      rate_limits: { minute: { limit: 50 } },
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as OrganizationBody).data.rate_limits).toEqual(set);
    await eventually(async () => {
      expect(await explainKey(other, owner, id)).toEqual(['organization:minute:50']);
    }, 1_000);

    // Read-only access to any organization, on any process.
    const read = await onOrganization(platform, owner.organizationId, 'GET', undefined, other);
    expect(read.status).toBe(200);
    const before = ((await read.json()) as OrganizationBody).data;
    expect(before).toMatchObject({ tier: 'free', rate_limits: set, role: null });

    // Anything but the plan is refused, and nothing changes (not even the plan sent with it).
    for (const [method, body] of [
      ['PATCH', { name: 'Taken over' }],
      ['PATCH', { slug: 'taken-over', tier: 'enterprise' }],
      ['PUT', { name: 'Taken over', slug: before.slug, tier: 'enterprise' }],
    ] as const) {
      const refused = await onOrganization(platform, owner.organizationId, method, body);
      expect({ method, body, status: refused.status }).toEqual({ method, body, status: 403 });
      expect(((await refused.json()) as ErrorBody).error.code).toBe('PERMISSION_DENIED');
    }
    const after = await onOrganization(owner, owner.organizationId, 'GET');
    expect(((await after.json()) as OrganizationBody).data).toMatchObject({
      name: before.name,
      slug: before.slug,
      tier: 'free',
      rate_limits: set,
    });

    // A bad set is a 400 there too; an unknown organization is a 404.
    expect(
      (
        await onOrganization(platform, owner.organizationId, 'PATCH', {
          rate_limits: { minute: { limit: 0 } },
        })
      ).status,
    ).toBe(400);
    expect(
      (await onOrganization(platform, randomUUID(), 'PATCH', { tier: 'professional' })).status,
    ).toBe(404);
    expect((await onOrganization(platform, randomUUID(), 'GET')).status).toBe(404);

    const cleared = await onOrganization(platform, owner.organizationId, 'PATCH', {
      rate_limits: null,
    });
    expect(cleared.status).toBe(200);
    expect(((await cleared.json()) as OrganizationBody).data.rate_limits).toBeNull();
    await eventually(async () => {
      expect(await explainKey(other, owner, id)).toEqual(['tier:minute:100', 'tier:hour:1000']);
    }, 1_000);
  });

  it("anyone else gets a 404 for another organization's id, the plan included", async () => {
    const owner = await registerOwner(api);
    const stranger = await registerOwner(api);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'Taken over' }],
      ['PATCH', { tier: 'professional' }],
      ['PUT', { name: 'Taken over', slug: 'taken-over' }],
    ] as const) {
      const response = await onOrganization(stranger, owner.organizationId, method, body);
      expect({ method, status: response.status }).toEqual({ method, status: 404 });
      expect(((await response.json()) as ErrorBody).error.code).toBe('RESOURCE_NOT_FOUND');
    }
    const { key } = await secretOf(
      await createKey(api, stranger, { permissions: ['members:write'] }),
    );
    const byKey = await api.call(`/api/v1/organizations/${owner.organizationId}`, {
      method: 'PATCH',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ tier: 'professional' }),
    });
    expect(byKey.status).toBe(404);
    const unchanged = await onOrganization(owner, owner.organizationId, 'GET');
    expect(((await unchanged.json()) as OrganizationBody).data).toMatchObject({
      tier: 'free',
      role: 'owner',
    });
  });

  it("never limits a platform administrator setting another organization's plan", async () => {
    const platform = await admin();
    const owner = await registerOwner(api);
    // The administrator's own organization allows 1 call a minute (the PATCH itself is exempt).
    expect(
      (await patchOrganization(platform, { rate_limits: { minute: { limit: 1 } } })).status,
    ).toBe(200);
    await eventually(async () => {
      const statuses = [];
      for (let i = 0; i < 2; i += 1)
        statuses.push((await other.call('/api/v1/auth/me', as(platform, 'GET'))).status);
      expect(statuses).toContain(429);
    }, 1_000);
    for (let i = 0; i < 3; i += 1) {
      for (const app of [api, other]) {
        const response = await onOrganization(
          platform,
          owner.organizationId,
          'PATCH',
          { tier: i % 2 === 0 ? 'professional' : 'standard' },
          app,
        );
        expect(response.status).toBe(200);
        expect(response.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
    expect((await patchOrganization(platform, { rate_limits: null })).status).toBe(200);
  });

  it('a key stricter than its organization is held to its own limit; a looser one is a 400 naming the ceiling', async () => {
    const platform = await admin();
    const looser = await createKey(api, platform, {
      rate_limits: [{ window: 'minute', limit: 150 }],
    });
    expect(looser.status).toBe(400);
    const error = ((await looser.json()) as ErrorBody).error;
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details).toEqual([
      {
        field: 'rate_limits.0.limit',
        message: expect.stringContaining('100 per minute') as unknown,
      },
    ]);

    const { id, key } = await secretOf(
      await createKey(api, platform, {
        rate_limits: [
          { window: 'minute', limit: 2 },
          { window: 'hour', limit: 1_000 },
        ],
      }),
    );
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await me(i % 2 ? api : other, key)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await me(api, key)).headers.get('x-ratelimit-limit')).toBe('2');
    expect(await explainKey(api, platform, id)).toEqual([
      'key:minute:2',
      'key:hour:1000',
      'tier:minute:100',
      'tier:hour:1000',
    ]);

    const raised = await api.call(
      `/api/v1/keys/${id}`,
      as(platform, 'PATCH', { rate_limits: [{ window: 'hour', limit: 1_001 }] }),
    );
    expect(raised.status).toBe(400);
    expect(((await raised.json()) as ErrorBody).error.details[0]?.message).toContain(
      '1000 per hour',
    );

    // Lowering the organization later leaves the key as it is: the stricter window counts.
    expect(
      (await patchOrganization(platform, { rate_limits: { minute: { limit: 1 } } })).status,
    ).toBe(200);
    await eventually(async () => {
      expect(await explainKey(other, platform, id)).toEqual([
        'key:minute:2',
        'key:hour:1000',
        'organization:minute:1',
      ]);
    }, 1_000);
  });

  it('never limits a platform administrator managing limits and versions, so they cannot lock themself out', async () => {
    const platform = await admin();
    const owner = await registerOwner(api);
    const tiny = { minute: { limit: 1 } };
    const overrides = {
      endpoints: {
        '/api/v1/rate-limits': tiny,
        '/api/v1/versions': tiny,
        '/api/v1/organizations/:id': tiny,
      },
    };
    for (const account of [platform, owner])
      expect((await api.call('/api/v1/rate-limits', as(account, 'PUT', overrides))).status).toBe(
        200,
      );
    // The platform administrator's other calls are limited as anyone's (here: 2 a minute).
    expect(
      (await patchOrganization(platform, { rate_limits: { minute: { limit: 2 } } })).status,
    ).toBe(200);
    await eventually(async () => {
      const statuses = [];
      for (let i = 0; i < 3; i += 1)
        statuses.push((await other.call('/api/v1/auth/me', as(platform, 'GET'))).status);
      expect(statuses).toContain(429);
    }, 1_000);

    for (let i = 0; i < 3; i += 1) {
      for (const app of [api, other]) {
        const read = await app.call('/api/v1/rate-limits', as(platform, 'GET'));
        expect(read.status).toBe(200);
        expect(read.headers.get('x-ratelimit-limit')).toBeNull();
        expect((await app.call('/api/v1/versions', as(platform, 'GET'))).status).toBe(200);
        expect((await app.call('/api/v1/versions/v1', as(platform, 'GET'))).status).toBe(200);
        expect((await app.call('/api/v1/rate-limits/explain', as(platform, 'GET'))).status).toBe(
          200,
        );
      }
    }
    // Undo everything, however many calls that takes.
    expect((await patchOrganization(platform, { rate_limits: null })).status).toBe(200);
    expect((await patchOrganization(platform, { rate_limits: null })).status).toBe(200);
    expect(
      (await api.call('/api/v1/rate-limits', as(platform, 'PUT', { endpoints: {} }))).status,
    ).toBe(200);

    // The same overrides do hold an organization's own admins.
    expect((await api.call('/api/v1/rate-limits', as(owner, 'GET'))).status).toBe(200);
    const second = await api.call('/api/v1/rate-limits', as(owner, 'GET'));
    expect(second.status).toBe(429);
    expect(((await second.json()) as ErrorBody).error.code).toBe('RATE_LIMIT_EXCEEDED');
  });
});
