import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { migrationsDataSourceOptions } from '../src/database/data-source.js';
import { VersionCalls } from '../src/modules/analytics/version-calls.js';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import { registerPlatformAdmin } from './support/platform-admin.js';
import { createDatabase, dropDatabase } from './support/test-env.js';
import { eventually, sleep } from './support/wait.js';

interface VersionBody {
  version: string;
  status: string;
  description: string | null;
  released_at: string | null;
  deprecated_at: string | null;
  sunset_date: string | null;
  migration_guide_url: string | null;
  changelog: string | null;
  created_at: string;
  updated_at: string;
}

interface ErrorBody {
  error: { code: string; details: unknown };
}

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as ErrorBody).error.code;
}

/**
 * Two api processes on one database and one Redis, with a platform administrator; the first
 * also runs the worker's usage ingestion when `ingest`.
 */
async function startPair(env: Record<string, string> = {}, ingest = false) {
  const [api, other] = await Promise.all([
    startApp({ env, imports: ingest ? [UsageIngestModule] : [] }),
    startApp({ env }),
  ]);
  const platformAdmin = await registerPlatformAdmin(api);
  const owner = await registerOwner(api);
  return { api, other, platformAdmin, owner };
}

/**
 * Polls `check` until it holds; returns how long that took (Infinity if not within `ms`), so a
 * test can assert the propagation time itself (`eventually` only says that it happened).
 */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await sleep(20);
  }
  return Infinity;
}

describe('API versions: the resource', () => {
  let api: TestApp;
  let other: TestApp;
  let platformAdmin: Account;
  let owner: Account;
  // Only this spec creates versions; a random one keeps reruns against a kept database apart.
  const version = `v${randomInt(1_000, 1_000_000_000)}`;

  beforeAll(async () => {
    ({ api, other, platformAdmin, owner } = await startPair({}, true));
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  it('lists the seeded v1 as stable, publicly and paginated', async () => {
    const response = await api.call('/api/v1/versions');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      data: VersionBody[];
      total: number;
      limit: number;
      offset: number;
    };
    expect(body).toMatchObject({ limit: 20, offset: 0 });
    expect(body.total).toBeGreaterThanOrEqual(1);
    const v1 = body.data.find((row) => row.version === 'v1');
    expect(v1).toMatchObject({ status: 'stable', deprecated_at: null, sunset_date: null });
    expect(v1?.released_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const one = await api.call('/api/v1/versions/v1');
    expect(one.status).toBe(200);
    expect(((await one.json()) as { data: VersionBody }).data.version).toBe('v1');
    expect((await api.call('/api/v1/versions?limit=101')).status).toBe(400);
    // A credential is optional on reads, but one that is sent must be valid.
    expect((await api.call('/api/v1/versions', as(owner, 'GET'))).status).toBe(200);
    expect(
      (await api.call('/api/v1/versions', { headers: { authorization: 'Bearer nonsense' } }))
        .status,
    ).toBe(401);
  });

  it('creates, reads, changes and deletes a version (platform administrators), audited', async () => {
    const created = await api.call(
      '/api/v1/versions',
      as(platformAdmin, 'POST', {
        version,
        status: 'beta',
        description: 'Cursor pagination',
        migration_guide_url: 'https://docs.example.com/migrate',
      }),
    );
    expect(created.status).toBe(201);
    const body = ((await created.json()) as { data: VersionBody }).data;
    expect(body).toMatchObject({
      version,
      status: 'beta',
      description: 'Cursor pagination',
      released_at: null,
      deprecated_at: null,
      sunset_date: null,
      migration_guide_url: 'https://docs.example.com/migrate',
      changelog: null,
    });

    const duplicate = await api.call(
      '/api/v1/versions',
      as(platformAdmin, 'POST', { version, status: 'stable' }),
    );
    expect(duplicate.status).toBe(409);
    expect(await codeOf(duplicate)).toBe('CONFLICT');

    const fetched = await other.call(`/api/v1/versions/${version}`);
    expect(fetched.status).toBe(200);
    expect(((await fetched.json()) as { data: VersionBody }).data.status).toBe('beta');

    const patched = await api.call(
      `/api/v1/versions/${version}`,
      as(platformAdmin, 'PATCH', {
        status: 'stable',
        released_at: '2026-01-01T00:00:00.000Z',
        changelog: '- lists use cursors',
        migration_guide_url: null,
      }),
    );
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { data: VersionBody }).data).toMatchObject({
      version,
      status: 'stable',
      description: 'Cursor pagination',
      released_at: '2026-01-01T00:00:00.000Z',
      changelog: '- lists use cursors',
      migration_guide_url: null,
    });

    const deleted = await api.call(`/api/v1/versions/${version}`, as(platformAdmin, 'DELETE'));
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    const gone = await api.call(`/api/v1/versions/${version}`);
    expect(gone.status).toBe(404);
    expect(await codeOf(gone)).toBe('RESOURCE_NOT_FOUND');
    for (const [method, body_] of [
      ['PATCH', { status: 'deprecated' }],
      ['DELETE', undefined],
    ] as const) {
      const missing = await api.call(
        `/api/v1/versions/${version}`,
        as(platformAdmin, method, body_),
      );
      expect(missing.status).toBe(404);
    }

    const audit = await api.call(
      `/api/v1/audit?target_type=api_version&target_id=${version}`,
      as(platformAdmin, 'GET'),
    );
    expect(audit.status).toBe(200);
    const actions = ((await audit.json()) as { data: { action: string }[] }).data.map(
      (entry) => entry.action,
    );
    expect(actions.sort()).toEqual([
      'api_version.created',
      'api_version.deleted',
      'api_version.updated',
    ]);
  });

  it('refuses to delete the only stable version (409)', async () => {
    const stable = await api.call('/api/v1/versions?limit=100');
    const versions = ((await stable.json()) as { data: VersionBody[] }).data;
    expect(versions.filter((row) => row.status === 'stable').map((row) => row.version)).toEqual([
      'v1',
    ]);
    const refused = await api.call('/api/v1/versions/v1', as(platformAdmin, 'DELETE'));
    expect(refused.status).toBe(409);
    expect(await codeOf(refused)).toBe('CONFLICT');
    expect((await api.call('/api/v1/versions/v1')).status).toBe(200);
  });

  it('refuses writes by anyone but a platform administrator', async () => {
    const key = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'versions', environment: 'live', permissions: ['admin'] }),
    );
    const secret = ((await key.json()) as { data: { key: string } }).data.key;
    const attempts: [string, string, unknown][] = [
      ['POST', '/api/v1/versions', { version: 'v7', status: 'beta' }],
      ['PATCH', '/api/v1/versions/v1', { status: 'sunset' }],
      ['DELETE', '/api/v1/versions/v1', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const byOwner = await api.call(path, as(owner, method, body));
      expect(byOwner.status).toBe(403);
      expect(await codeOf(byOwner)).toBe('PERMISSION_DENIED');
      const byKey = await api.call(
        path,
        body === undefined
          ? { method, headers: { 'x-api-key': secret } }
          : json(method, body, { 'x-api-key': secret }),
      );
      expect(byKey.status).toBe(403);
      expect(
        (await api.call(path, body === undefined ? { method } : json(method, body))).status,
      ).toBe(401);
    }
    const v1 = await api.call('/api/v1/versions/v1');
    expect(((await v1.json()) as { data: VersionBody }).data.status).toBe('stable');
  });

  it('validates bodies and the version parameter', async () => {
    const bad: unknown[] = [
      { version: 'version1', status: 'beta' },
      { version: 'v1.1', status: 'beta' },
      { version, status: 'retired' },
      { version, status: 'beta', migration_guide_url: 'ftp://docs.example.com/x' },
      { version, status: 'beta', migration_guide_url: 'javascript:alert(1)' },
      { version, status: 'beta', sunset_date: 'next tuesday' },
      { version, status: 'beta', owner: 'me' },
      { status: 'beta' },
    ];
    for (const body of bad) {
      const response = await api.call('/api/v1/versions', as(platformAdmin, 'POST', body));
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(await codeOf(response)).toBe('VALIDATION_ERROR');
    }
    const nullStatus = await api.call(
      '/api/v1/versions/v1',
      as(platformAdmin, 'PATCH', { status: null }),
    );
    expect(nullStatus.status).toBe(400);
    const renamed = await api.call(
      '/api/v1/versions/v1',
      as(platformAdmin, 'PATCH', { version: 'v9' }),
    );
    expect(renamed.status).toBe(400);
    expect((await api.call('/api/v1/versions/latest')).status).toBe(400);
  });

  it('who calls a version is read from the usage rollups: requests per organization and key', async () => {
    const stranger = await registerOwner(api, 'stranger');
    const createKey = async (account: Account) => {
      const response = await api.call(
        '/api/v1/keys',
        as(account, 'POST', { name: 'caller', environment: 'live', permissions: ['users:read'] }),
      );
      return ((await response.json()) as { data: { id: string; key: string } }).data;
    };
    const [mine, theirs] = await Promise.all([createKey(owner), createKey(stranger)]);
    const me = (app: TestApp, secret: string) =>
      app.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });
    for (let i = 0; i < 3; i += 1) expect((await me(api, mine.key)).status).toBe(200);
    for (let i = 0; i < 2; i += 1) expect((await me(other, mine.key)).status).toBe(200);
    expect((await me(other, theirs.key)).status).toBe(200);
    // Unversioned (/health) and anonymous requests are nobody's calls of a version.
    expect((await other.call('/health')).status).toBe(200);
    expect((await other.call('/api/v1/versions')).status).toBe(200);

    const calls = api.app.get(VersionCalls);
    const ours = async (version: string, since: Date) =>
      (await calls.callsByKey(version, since)).filter(
        (row) => row.api_key_id === mine.id || row.api_key_id === theirs.id,
      );
    const expected = [
      { organization_id: owner.organizationId, api_key_id: mine.id, requests: 5 },
      { organization_id: stranger.organizationId, api_key_id: theirs.id, requests: 1 },
    ].sort((a, b) => (a.organization_id < b.organization_id ? -1 : 1));
    const hourAgo = new Date(Date.now() - 3_600_000);
    await eventually(async () => {
      // Since an hour ago (hour rollups) and since two days ago (day rollups for today).
      expect(await ours('v1', hourAgo)).toEqual(expected);
      expect(await ours('v1', new Date(Date.now() - 2 * 86_400_000))).toEqual(expected);
    });
    expect(await ours(version, hourAgo)).toEqual([]);
    expect(await ours('v1', new Date(Date.now() + 2 * 3_600_000))).toEqual([]);
  });
});

/**
 * Deprecating and sunsetting v1 changes every /api/v1 route, so these run on a database and
 * Redis prefix of their own: the other spec files, running in parallel, never see it.
 */
describe('API versions: lifecycle on every process', () => {
  const database = `${process.env.GATEHOUSE_TEST_DATABASE ?? 'gatehouse_test'}_versions`;
  let api: TestApp;
  let other: TestApp;
  let platformAdmin: Account;
  let owner: Account;
  let secret: string;

  beforeAll(async () => {
    const url = await createDatabase(database);
    const dataSource = new DataSource(migrationsDataSourceOptions(url));
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.destroy();
    ({ api, other, platformAdmin, owner } = await startPair({
      DATABASE_URL: url,
      REDIS_PREFIX: `gh-test-${process.env.GATEHOUSE_TEST_RUN ?? 'run'}-versions:`,
    }));
    const key = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'lifecycle', environment: 'live', permissions: ['users:read'] }),
    );
    secret = ((await key.json()) as { data: { key: string } }).data.key;
  });

  afterAll(async () => {
    await Promise.all([api?.close(), other?.close()]);
    await dropDatabase(database);
  });

  async function patchV1(app: TestApp, body: Record<string, unknown>): Promise<void> {
    const response = await app.call('/api/v1/versions/v1', as(platformAdmin, 'PATCH', body));
    expect(response.status).toBe(200);
  }

  const me = (app: TestApp, account: Account = owner) =>
    app.call('/api/v1/auth/me', as(account, 'GET'));
  const meByKey = (app: TestApp) =>
    app.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });

  it('a deprecated version answers with Deprecation, Sunset and Link on every process within 1 s', async () => {
    expect((await me(other)).headers.get('deprecation')).toBeNull();
    await patchV1(api, {
      status: 'deprecated',
      deprecated_at: '2026-01-01T00:00:00.000Z',
      sunset_date: '2099-12-31T23:59:59.000Z',
      migration_guide_url: 'https://docs.example.com/migrate-to-v2',
    });
    const propagatedMs = await within(1_000, async () => {
      return (await me(other)).headers.get('deprecation') !== null;
    });
    expect(propagatedMs).toBeLessThan(1_000);

    for (const response of [
      await me(other),
      await meByKey(other),
      await other.call('/api/v1/versions'),
      // An error raised later in the chain keeps them too.
      await other.call('/api/v1/keys/00000000-0000-4000-8000-000000000000', as(owner, 'GET')),
    ]) {
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get('deprecation')).toBe('@1767225600');
      expect(response.headers.get('sunset')).toBe('Thu, 31 Dec 2099 23:59:59 GMT');
      expect(response.headers.get('link')).toBe(
        '<https://docs.example.com/migrate-to-v2>; rel="deprecation"',
      );
    }
    expect((await other.call('/health')).headers.get('deprecation')).toBeNull();

    await patchV1(api, {
      status: 'stable',
      deprecated_at: null,
      sunset_date: null,
      migration_guide_url: null,
    });
    expect(
      await within(1_000, async () => (await me(other)).headers.get('deprecation') === null),
    ).toBeLessThan(1_000);
  });

  it('a sunset version is 410 for users and keys on every process; a platform administrator undoes it', async () => {
    await patchV1(api, { status: 'sunset' });
    for (const app of [api, other]) {
      expect(await within(1_000, async () => (await me(app)).status === 410)).toBeLessThan(1_000);
      const refused = await me(app);
      expect(await codeOf(refused)).toBe('API_VERSION_SUNSET');
      expect(refused.headers.get('deprecation')).toMatch(/^@\d+$/);
      const byKey = await meByKey(app);
      expect(byKey.status).toBe(410);
      expect(await codeOf(byKey)).toBe('API_VERSION_SUNSET');
      expect((await app.call('/api/v1/versions')).status).toBe(410);
      expect((await app.call('/api/v1/versions/v1', as(owner, 'GET'))).status).toBe(410);
      // The administrator's exemption covers /api/v1/versions only.
      expect((await me(app, platformAdmin)).status).toBe(410);
      expect((await app.call('/health')).status).toBe(200);
      const read = await app.call('/api/v1/versions/v1', as(platformAdmin, 'GET'));
      expect(read.status).toBe(200);
      expect(((await read.json()) as { data: VersionBody }).data.status).toBe('sunset');
      expect((await app.call('/api/v1/versions', as(platformAdmin, 'GET'))).status).toBe(200);
    }

    await patchV1(other, { status: 'stable' });
    for (const app of [api, other]) {
      expect(await within(1_000, async () => (await me(app)).status === 200)).toBeLessThan(1_000);
      expect((await meByKey(app)).status).toBe(200);
    }
  });

  it('a sunset_date that has passed is 410 whatever the status, until it is cleared', async () => {
    await patchV1(other, { sunset_date: '2026-01-01T00:00:00.000Z' });
    for (const app of [api, other]) {
      expect(await within(1_000, async () => (await me(app)).status === 410)).toBeLessThan(1_000);
      const refused = await meByKey(app);
      expect(refused.status).toBe(410);
      expect(refused.headers.get('sunset')).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    }
    await patchV1(api, { sunset_date: null });
    for (const app of [api, other]) {
      expect(await within(1_000, async () => (await me(app)).status === 200)).toBeLessThan(1_000);
    }
  });
});
