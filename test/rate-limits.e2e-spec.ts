import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, as, registerOwner } from './support/identity.js';
import { registerPlatformAdmin } from './support/platform-admin.js';
import { type TestApp, startApp } from './support/test-app.js';

interface Policies {
  global: Record<string, { limit: number; algorithm: string }>;
  tiers: Record<string, Record<string, { limit: number }>>;
  endpoints: Record<string, Record<string, { limit: number }>>;
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
    expect(current.tiers.free?.minute?.limit).toBe(100);
    expect(current.tiers.professional?.minute?.limit).toBe(1_000);
    expect(current.endpoints).toEqual({});
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
    expect(((await audit.json()) as { total: number }).total).toBe(1);
  });
});
