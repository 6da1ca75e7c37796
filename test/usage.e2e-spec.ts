import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { UsageConfig } from '../src/config/config.classes.js';
import { HttpMetrics } from '../src/modules/metrics/http-metrics.js';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { UsageLogsRetention } from '../src/modules/usage/usage-logs-retention.js';
import { UsageLogsWriter } from '../src/modules/usage/usage-logs.writer.js';
import { type UsageRecord, usageBatchOf, usageRowId } from '../src/modules/usage/usage-record.js';
import { UsageRecorder } from '../src/modules/usage/usage-recorder.js';
import { QUEUE_CONNECTION } from '../src/redis/redis-client.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { ProbeController, ProbeModule } from './support/probe.module.js';
import { eventually } from './support/wait.js';

const DAY_MS = 86_400_000;
const AGENT = 'usage-spec/1.0';

/** A usage_logs row as pg returns it: the record, its timestamp a Date. */
type UsageRow = Omit<UsageRecord, 'created_at'> & { created_at: Date };

/** A user's successful GET /api/v1/auth/me as a usage record, with `fields` changed. */
function meRecord(
  account: Account,
  requestId: string,
  fields: Partial<UsageRecord> = {},
): UsageRecord {
  return {
    id: randomUUID(),
    created_at: new Date().toISOString(),
    organization_id: account.organizationId,
    api_key_id: null,
    user_id: account.userId,
    project_id: null,
    method: 'GET',
    path: '/api/v1/auth/me',
    route: '/api/v1/auth/me',
    status: 200,
    response_time_ms: 1.5,
    request_bytes: 0,
    response_bytes: 120,
    ip: '127.0.0.1',
    user_agent: AGENT,
    api_version: 'v1',
    error_code: null,
    request_id: requestId,
    limit_type: null,
    limit_value: null,
    current_usage: null,
    ...fields,
  };
}

describe('usage pipeline: every credentialed request recorded once', () => {
  // Two api processes' worth of app; the first also runs the worker's usage processor.
  let api: TestApp;
  let other: TestApp;
  let owner: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    [api, other] = await Promise.all([
      startApp({ imports: [UsageIngestModule, ProbeModule] }),
      startApp(),
    ]);
    owner = await registerOwner(api);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'usage key',
        environment: 'live',
        permissions: ['users:read', 'projects:read'],
        ...body,
      }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { id: string; key: string } }).data;
  }

  const rowsWithRequestIds = (prefix: string): Promise<UsageRow[]> =>
    dataSource.query(
      `SELECT * FROM usage_logs WHERE request_id LIKE $1 || '%' ORDER BY created_at, request_id`,
      [prefix],
    );

  it('N requests of mixed outcomes across two processes make exactly N rows, with their fields', async () => {
    const plain = await createKey({});
    const limited = await createKey({ rate_limits: [{ window: 'minute', limit: 2 }] });
    const fenced = await createKey({ allowed_ips: ['203.0.113.0/24'] });
    const prefix = `mix-${randomUUID()}-`;
    let sent = 0;
    const call = async (
      path: string,
      headers: Record<string, string>,
      keyId: string | null,
      requestId = `${prefix}${sent}`,
    ) => {
      const app = sent % 2 === 0 ? api : other;
      sent += 1;
      const response = await app.call(path, {
        headers: { ...headers, 'user-agent': AGENT, 'x-request-id': requestId },
      });
      await response.arrayBuffer();
      return { status: response.status, keyId };
    };
    const byKey = (secret: string) => ({ 'x-api-key': secret });
    const outcomes = [];
    for (let i = 0; i < 4; i += 1)
      outcomes.push(await call('/api/v1/auth/me', byKey(plain.key), plain.id));
    for (let i = 0; i < 3; i += 1)
      outcomes.push(await call('/api/v1/projects/999999?expand=x', byKey(plain.key), plain.id));
    for (let i = 0; i < 3; i += 1)
      outcomes.push(await call('/api/v1/keys', byKey(plain.key), plain.id));
    for (let i = 0; i < 5; i += 1)
      outcomes.push(await call('/api/v1/auth/me', byKey(limited.key), limited.id));
    for (let i = 0; i < 2; i += 1)
      outcomes.push(await call('/api/v1/auth/me', byKey(fenced.key), fenced.id));
    for (let i = 0; i < 3; i += 1) outcomes.push(await call('/api/v1/auth/me', owner.auth, null));
    // A client's own X-Request-Id, sent twice: two requests, two rows.
    const reused = `${prefix}reused`;
    for (let i = 0; i < 2; i += 1)
      outcomes.push(await call('/api/v1/auth/me', byKey(plain.key), plain.id, reused));
    // Nobody's usage: an unknown key and a revoked-looking one (401), no credential at all.
    const notRecorded = [
      await call('/api/v1/auth/me', byKey(`${plain.key.slice(0, -1)}X`), null),
      await call('/api/v1/auth/me', { 'x-api-key': 'sk_live_nope' }, null),
      await call('/api/v1/auth/me', {}, null),
      await call('/health', {}, null),
    ];
    expect(notRecorded.map((outcome) => outcome.status)).toEqual([401, 401, 401, 200]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      ...[200, 200, 200, 200],
      ...[404, 404, 404],
      ...[403, 403, 403],
      ...[200, 200, 429, 429, 429],
      ...[403, 403],
      ...[200, 200, 200],
      ...[200, 200],
    ]);

    const rows = await eventually(async () => {
      const found = await rowsWithRequestIds(prefix);
      expect(found).toHaveLength(outcomes.length);
      return found;
    });
    const count = (predicate: (row: UsageRow) => boolean) => rows.filter(predicate).length;
    expect(count((row) => row.status === 200)).toBe(11);
    expect(count((row) => row.status === 404)).toBe(3);
    expect(count((row) => row.status === 403)).toBe(5);
    expect(count((row) => row.status === 429)).toBe(3);
    expect(count((row) => row.request_id === reused)).toBe(2);
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    for (const row of rows) {
      expect(row.organization_id).toBe(owner.organizationId);
      expect(row.method).toBe('GET');
      expect(row.api_version).toBe('v1');
      expect(row.ip).toBe('127.0.0.1');
      expect(row.user_agent).toBe(AGENT);
      expect(row.request_bytes).toBe(0);
      expect(row.response_bytes).toBeGreaterThan(0);
      expect(row.response_time_ms).toBeGreaterThan(0);
      expect(row.project_id).toBeNull();
    }
    const refused = rows.filter((row) => row.status === 429);
    expect(refused.every((row) => row.api_key_id === limited.id)).toBe(true);
    expect(refused.every((row) => row.error_code === 'RATE_LIMIT_EXCEEDED')).toBe(true);
    expect(
      rows
        .filter((row) => row.status === 403)
        .map((row) => row.error_code)
        .sort(),
    ).toEqual([
      'IP_NOT_ALLOWED',
      'IP_NOT_ALLOWED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    ]);
    expect(count((row) => row.api_key_id === fenced.id)).toBe(2);
    const notFound = rows.find((row) => row.status === 404);
    expect(notFound).toMatchObject({
      path: '/api/v1/projects/999999',
      route: '/api/v1/projects/:id',
      api_key_id: plain.id,
      user_id: null,
      error_code: 'RESOURCE_NOT_FOUND',
    });
    const byUser = rows.filter((row) => row.user_id !== null);
    expect(byUser).toHaveLength(3);
    expect(byUser.every((row) => row.user_id === owner.userId && row.api_key_id === null)).toBe(
      true,
    );
    expect(byUser[0]).toMatchObject({ status: 200, route: '/api/v1/auth/me', error_code: null });
  });

  it('a batch delivered twice inserts its rows once', async () => {
    const writer = api.app.get(UsageLogsWriter);
    const prefix = `twice-${randomUUID()}-`;
    const now = Date.now();
    const records = Array.from({ length: 50 }, (_, i) =>
      meRecord(owner, `${prefix}${i}`, { created_at: new Date(now - i * 1_000).toISOString() }),
    );
    expect(await writer.write({ records })).toEqual({ records: 50, inserted: 50 });
    expect(await writer.write({ records })).toEqual({ records: 50, inserted: 0 });
    // Half of it again with 10 new records: only those are new.
    const fresh = records.slice(0, 10).map((record) => ({ ...record, id: randomUUID() }));
    expect(await writer.write({ records: [...records.slice(0, 25), ...fresh] })).toEqual({
      records: 35,
      inserted: 10,
    });
    expect(await rowsWithRequestIds(prefix)).toHaveLength(60);
  });

  it("a compact batch (the recorder's format) delivered twice inserts its rows once, as named", async () => {
    const writer = api.app.get(UsageLogsWriter);
    const prefix = `compact-${randomUUID()}-`;
    const now = Date.now();
    const records: UsageRecord[] = Array.from({ length: 20 }, (_, i) => ({
      id: randomUUID(),
      created_at: new Date(now - i * 1_000).toISOString(),
      organization_id: owner.organizationId,
      api_key_id: null,
      user_id: owner.userId,
      project_id: i % 2 === 0 ? null : 7,
      method: 'POST',
      path: `/api/v1/things\t${i}`,
      route: '/api/v1/things',
      status: i % 4 === 0 ? 429 : 201,
      response_time_ms: 0.5 + i,
      request_bytes: i,
      response_bytes: 2 * i,
      ip: '::1',
      user_agent: i % 3 === 0 ? null : AGENT,
      api_version: 'v1',
      error_code: i % 4 === 0 ? 'RATE_LIMIT_EXCEEDED' : null,
      request_id: `${prefix}${i}`,
      limit_type: i % 4 === 0 ? 'minute' : null,
      limit_value: i % 4 === 0 ? 100 : null,
      current_usage: i % 4 === 0 ? 100 : null,
    }));
    const idPrefix = randomUUID().slice(0, 24);
    const batch = usageBatchOf(records, idPrefix);
    expect(await writer.write(batch)).toEqual({ records: 20, inserted: 20 });
    expect(await writer.write(batch)).toEqual({ records: 20, inserted: 0 });
    const rows = await rowsWithRequestIds(prefix);
    expect(rows).toHaveLength(20);
    const byRequest = new Map(rows.map((row) => [row.request_id, row]));
    records.forEach((record, i) => {
      expect(byRequest.get(record.request_id)).toEqual({
        ...record,
        id: usageRowId(idPrefix, i),
        created_at: new Date(record.created_at),
        // bigint columns: pg returns them as strings
        limit_value: record.limit_value === null ? null : String(record.limit_value),
        current_usage: record.current_usage === null ? null : String(record.current_usage),
      });
    });
  });

  it('text the COPY format gives a meaning to is stored as it was sent', async () => {
    const writer = api.app.get(UsageLogsWriter);
    const prefix = `copy-${randomUUID()}-`;
    const agents = ['tab\there', 'new\nline\r', 'back\\slash \\N', '\\N', 'ünïcödé ✓ "q", x'];
    const records: UsageRecord[] = agents.map((agent, i) => ({
      id: randomUUID(),
      created_at: new Date(Date.now() - i).toISOString(),
      organization_id: owner.organizationId,
      api_key_id: null,
      user_id: owner.userId,
      project_id: null,
      method: 'GET',
      path: `/api/v1/odd\\path\t${i}`,
      route: 'unmatched',
      status: 404,
      response_time_ms: 0.125,
      request_bytes: 0,
      response_bytes: 0,
      ip: '::1',
      user_agent: agent,
      api_version: null,
      error_code: 'NOT_FOUND',
      request_id: `${prefix}${i}`,
      limit_type: null,
      limit_value: null,
      current_usage: null,
    }));
    expect(await writer.write({ records })).toEqual({ records: 5, inserted: 5 });
    const rows = await rowsWithRequestIds(prefix);
    expect(rows.map((row) => row.user_agent).sort()).toEqual([...agents].sort());
    expect(rows.map((row) => row.path).sort()).toEqual(records.map((r) => r.path).sort());
    expect(rows.every((row) => row.api_version === null && row.response_time_ms === 0.125)).toBe(
      true,
    );
  });

  it("a GET claiming a Content-Length past usage_logs' integer is recorded, with the rest of its batch", async () => {
    const key = await createKey({});
    const prefix = `length-${randomUUID()}-`;
    // fetch computes Content-Length itself; node:http sends the claim, and no body.
    const claim = (requestId: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const request = httpRequest(`${api.url}/api/v1/auth/me`, {
          agent: false,
          headers: {
            'x-api-key': key.key,
            'x-request-id': requestId,
            'content-length': '99999999999',
          },
        });
        request.on('response', (response) => {
          response.resume();
          response.on('end', () => {
            request.destroy();
            resolve(response.statusCode);
          });
        });
        request.on('error', reject);
        request.flushHeaders();
      });
    const statuses = [await claim(`${prefix}claim`)];
    for (let i = 0; i < 3; i += 1) {
      const response = await api.call('/api/v1/auth/me', {
        headers: { 'x-api-key': key.key, 'x-request-id': `${prefix}${i}` },
      });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const rows = await eventually(async () => {
      const found = await rowsWithRequestIds(prefix);
      expect(found).toHaveLength(4);
      return found;
    });
    const claimed = rows.find((row) => row.request_id === `${prefix}claim`);
    expect(claimed?.request_bytes).toBe(2 ** 31 - 1);
  });

  it('a request its client gave up on is recorded once, as 499 (it was processed and counted)', async () => {
    const key = await createKey({});
    const probe = api.app.get(ProbeController);
    const prefix = `closed-${randomUUID()}-`;
    const started = probe.invocations;
    const request = httpRequest(`${api.url}/api/v1/probe/held`, {
      agent: false,
      headers: { 'x-api-key': key.key, 'x-request-id': `${prefix}held` },
    });
    request.on('error', () => undefined);
    request.end();
    // Past the guards (authenticated, limits counted), in the handler: the client leaves.
    await eventually(() => Promise.resolve(expect(probe.invocations).toBe(started + 1)));
    request.destroy();
    const [row] = await eventually(async () => {
      const found = await rowsWithRequestIds(prefix);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(row).toMatchObject({
      api_key_id: key.id,
      route: '/api/v1/probe/held',
      status: 499,
      response_bytes: 0,
    });
    // The handler answers a closed connection: no second row for it.
    probe.release();
    const after = await api.call('/api/v1/auth/me', {
      headers: { 'x-api-key': key.key, 'x-request-id': `${prefix}after` },
    });
    expect(after.status).toBe(200);
    const rows = await eventually(async () => {
      const found = await rowsWithRequestIds(prefix);
      expect(found.map((r) => r.request_id)).toContain(`${prefix}after`);
      return found;
    });
    expect(rows.map((r) => [r.request_id, r.status]).sort()).toEqual([
      [`${prefix}after`, 200],
      [`${prefix}held`, 499],
    ]);
  });

  it('a row Postgres refuses for its data is left out; the rest of its batch is written once', async () => {
    const writer = api.app.get(UsageLogsWriter);
    const prefix = `refused-${randomUUID()}-`;
    // usage_logs.request_bytes is an integer: 2^31 is out of its range
    const records = Array.from({ length: 9 }, (_, i) =>
      meRecord(owner, `${prefix}${i}`, { request_bytes: i === 4 ? 2 ** 31 : i }),
    );
    const batch = usageBatchOf(records, randomUUID().slice(0, 24));
    expect(await writer.write(batch)).toEqual({ records: 9, inserted: 8 });
    expect(await writer.write(batch)).toEqual({ records: 9, inserted: 0 });
    const rows = await rowsWithRequestIds(prefix);
    expect(rows.map((row) => row.request_id).sort()).toEqual(
      records
        .filter((_, i) => i !== 4)
        .map((record) => record.request_id)
        .sort(),
    );
  });

  it('last_used_at is derived from usage records by the worker, not on the request path', async () => {
    const key = await createKey({});
    const startedAt = Date.now();
    const lastUsed = async () => {
      const response = await api.call(`/api/v1/keys/${key.id}`, as(owner, 'GET'));
      return ((await response.json()) as { data: { last_used_at: string | null } }).data
        .last_used_at;
    };
    expect(await lastUsed()).toBeNull();
    for (let i = 0; i < 3; i += 1)
      expect(
        (await other.call('/api/v1/auth/me', { headers: { 'x-api-key': key.key } })).status,
      ).toBe(200);
    const written = await eventually(async () => {
      const value = await lastUsed();
      expect(value).not.toBeNull();
      return Date.parse(value ?? '');
    });
    expect(written).toBeGreaterThanOrEqual(startedAt - 1_000);
    expect(written).toBeLessThanOrEqual(Date.now());
  });

  it('closing an api process (as on SIGTERM) hands over the records still buffered', async () => {
    // A flush interval that never comes: only closing can hand these over.
    const config = api.app.get(UsageConfig);
    const third = await startApp({
      overrides: [[UsageConfig, { ...config, flushMs: 3_600_000 }]],
    });
    const prefix = `close-${randomUUID()}-`;
    const recorder = third.app.get(UsageRecorder);
    try {
      for (let i = 0; i < 7; i += 1) {
        const response = await third.call('/api/v1/auth/me', {
          headers: { ...owner.auth, 'x-request-id': `${prefix}${i}` },
        });
        expect(response.status).toBe(200);
      }
      await eventually(async () => {
        expect(recorder.buffered).toBe(7);
        await Promise.resolve();
      });
      expect(await rowsWithRequestIds(prefix)).toHaveLength(0);
    } finally {
      await third.close();
    }
    expect(recorder.buffered).toBe(0);
    await eventually(async () => expect(await rowsWithRequestIds(prefix)).toHaveLength(7));
  });

  it('with the queue unreachable the buffer stays bounded: the oldest are dropped and counted', async () => {
    const bound = 5;
    const cut = await startApp({
      env: { USAGE_BUFFER_MAX_RECORDS: String(bound) },
      overrides: [[QUEUE_CONNECTION, { url: 'redis://127.0.0.1:1', maxRetriesPerRequest: null }]],
    });
    const recorder = cut.app.get(UsageRecorder);
    const dropped = async () => {
      const metric = await cut.app
        .get(HttpMetrics)
        .registry.getSingleMetric('gatehouse_usage_records_dropped_total')
        ?.get();
      return metric?.values[0]?.value ?? 0;
    };
    try {
      const sent = 30;
      for (let i = 0; i < sent; i += 1) {
        expect((await cut.call('/api/v1/auth/me', { headers: owner.auth })).status).toBe(200);
        expect(recorder.buffered).toBeLessThanOrEqual(bound);
      }
      await eventually(async () =>
        expect(await dropped()).toBeGreaterThanOrEqual(sent - 2 * bound),
      );
      expect(recorder.buffered).toBeLessThanOrEqual(bound);
    } finally {
      await cut.close();
    }
  });

  it('keeps USAGE_RETENTION_DAYS: whole day partitions are dropped, the next days created', async () => {
    const now = new Date();
    const day = (offset: number) =>
      new Date(now.getTime() + offset * DAY_MS).toISOString().slice(0, 10);
    const name = (date: string) => `usage_logs_${date.replaceAll('-', '')}`;
    await dataSource.query("SELECT ensure_day_partition('usage_logs', $1::date)", [day(-200)]);
    const retention = api.app.get(UsageLogsRetention);
    const result = await retention.purge(now);
    expect(result.droppedPartitions).toContain(name(day(-200)));
    expect(result.droppedPartitions).not.toContain(name(day(-1)));
    const [ahead] = await dataSource.query<{ present: boolean }[]>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [name(day(7))],
    );
    expect(ahead?.present).toBe(true);
  });
});
