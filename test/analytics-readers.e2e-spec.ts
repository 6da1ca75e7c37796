import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { expectError, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { usageDrained } from './support/usage-drained.js';
import { eventually } from './support/wait.js';

const MINUTE_MS = 60_000;

interface TopEndpoint {
  method: string;
  endpoint: string;
  requests: number;
  error_count: number;
  error_rate: number | null;
  average_response_time: number | null;
  p95: number | null;
}

describe('analytics readers: top endpoints and realtime', () => {
  let api: TestApp;
  let owner: Account;
  let stranger: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    api = await startApp({ imports: [UsageIngestModule] });
    [owner, stranger] = await Promise.all([registerOwner(api), registerOwner(api, 'stranger')]);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  async function createKey(permissions: string[]): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'readers key', environment: 'live', permissions }),
    );
    return (await expectStatus<{ data: { id: string; key: string } }>(response, 201)).data;
  }

  const get = (account: Account, path: string, query: Record<string, string>) =>
    api.call(`${path}?${new URLSearchParams(query).toString()}`, as(account, 'GET'));

  it('counts what was sent per route, busiest first; another organization sees nothing', async () => {
    const startedAt = Date.now();
    const key = await createKey(['users:read', 'projects:read']);
    const send = async (path: string, times: number) => {
      for (let i = 0; i < times; i += 1) {
        const response = await api.call(path, { headers: { 'x-api-key': key.key } });
        await response.arrayBuffer();
      }
    };
    await send('/api/v1/auth/me', 5);
    await send('/api/v1/projects/999999', 3);
    await send('/api/v1/keys', 2);
    await usageDrained(dataSource, [key.id], 10);
    const query = {
      start_date: new Date(Math.floor(startedAt / MINUTE_MS) * MINUTE_MS).toISOString(),
      end_date: new Date(Date.now() + MINUTE_MS).toISOString(),
      api_key_id: key.id,
    };
    const response = await get(owner, '/api/v1/analytics/top-endpoints', query);
    const { data } = await expectStatus<{ data: { endpoints: TopEndpoint[] } }>(response, 200);
    expect(
      data.endpoints.map(({ method, endpoint, requests, error_count, error_rate }) => ({
        method,
        endpoint,
        requests,
        error_count,
        error_rate,
      })),
    ).toEqual([
      { method: 'GET', endpoint: '/api/v1/auth/me', requests: 5, error_count: 0, error_rate: 0 },
      {
        method: 'GET',
        endpoint: '/api/v1/projects/:id',
        requests: 3,
        error_count: 3,
        error_rate: 1,
      },
      { method: 'GET', endpoint: '/api/v1/keys', requests: 2, error_count: 2, error_rate: 1 },
    ]);
    for (const endpoint of data.endpoints) {
      expect(endpoint.average_response_time).toBeGreaterThan(0);
      expect(endpoint.p95).toBeGreaterThan(0);
    }
    const limited = await get(owner, '/api/v1/analytics/top-endpoints', { ...query, limit: '1' });
    const one = await expectStatus<{ data: { endpoints: TopEndpoint[] } }>(limited, 200);
    expect(one.data.endpoints.map((endpoint) => endpoint.requests)).toEqual([5]);

    const foreign = await get(stranger, '/api/v1/analytics/top-endpoints', query);
    const none = await expectStatus<{ data: { endpoints: TopEndpoint[] } }>(foreign, 200);
    expect(none.data.endpoints).toEqual([]);
  });

  it('bad parameters are a 400 naming the field; reading needs analytics:read', async () => {
    const bad = async (query: Record<string, string>, field: string) => {
      const error = await expectError(
        await get(owner, '/api/v1/analytics/top-endpoints', query),
        400,
        'VALIDATION_ERROR',
      );
      expect(error.details).toContainEqual(expect.objectContaining({ field }));
    };
    await bad({ limit: '0' }, 'limit');
    await bad({ limit: '101' }, 'limit');
    await bad({ limit: '0x10' }, 'limit');
    await bad({ start_date: '2026-01-02T00:00:00Z', end_date: '2026-01-01T00:00:00Z' }, 'end_date');
    await bad({ api_key_id: 'nope' }, 'api_key_id');
    // The raw log says a reversed range is a mistake as the analytics do.
    const reversed = await expectError(
      await get(owner, '/api/v1/usage-logs', {
        start_date: '2026-01-02T00:00:00Z',
        end_date: '2026-01-02T00:00:00Z',
      }),
      400,
      'VALIDATION_ERROR',
    );
    expect(reversed.details).toContainEqual(expect.objectContaining({ field: 'end_date' }));

    const noAnalytics = await createKey(['users:read']);
    await expectError(
      await api.call('/api/v1/analytics/top-endpoints', {
        headers: { 'x-api-key': noAnalytics.key },
      }),
      403,
      'PERMISSION_DENIED',
    );
    const reader = await createKey(['analytics:read']);
    const allowed = await api.call('/api/v1/analytics/top-endpoints', {
      headers: { 'x-api-key': reader.key },
    });
    await expectStatus(allowed, 200);
  });

  it('realtime counts the last minutes: requests, errors, keys, users and 429 events', async () => {
    const fresh = await registerOwner(api, 'realtime');
    const created = await api.call(
      '/api/v1/keys',
      as(fresh, 'POST', {
        name: 'realtime key',
        environment: 'live',
        permissions: ['users:read'],
        rate_limits: [{ window: 'minute', limit: 2 }],
      }),
    );
    const key = (await expectStatus<{ data: { id: string; key: string } }>(created, 201)).data;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await api.call('/api/v1/auth/me', { headers: { 'x-api-key': key.key } });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    await eventually(async () => {
      const response = await get(fresh, '/api/v1/analytics/realtime', { window: '5m' });
      const { data } = await expectStatus<{ data: Record<string, number | string> }>(response, 200);
      const [logged] = await dataSource.query<Record<string, number>[]>(
        `SELECT count(*)::int AS requests,
           (count(*) FILTER (WHERE status >= 400))::int AS errors,
           count(DISTINCT api_key_id)::int AS active_keys,
           count(DISTINCT user_id)::int AS active_users
         FROM usage_logs WHERE organization_id = $1 AND created_at >= $2`,
        [fresh.organizationId, data.start_date],
      );
      expect(data).toMatchObject({ ...logged, events: 3, active_keys: 1 });
      expect(logged?.requests).toBeGreaterThanOrEqual(5);
    });
    const some = await get(fresh, '/api/v1/analytics/realtime', { metrics: 'events' });
    const only = await expectStatus<{ data: Record<string, unknown> }>(some, 200);
    expect(Object.keys(only.data).sort()).toEqual(['end_date', 'events', 'start_date', 'window']);

    const foreign = await get(stranger, '/api/v1/analytics/realtime', { window: '60m' });
    const other = await expectStatus<{ data: Record<string, unknown> }>(foreign, 200);
    expect(other.data.events).toBe(0);

    const badQueries: Record<string, string>[] = [
      { window: '0m' },
      { window: '61m' },
      { window: '5s' },
      { metrics: 'cpu' },
    ];
    for (const query of badQueries) {
      await expectError(
        await get(fresh, '/api/v1/analytics/realtime', query),
        400,
        'VALIDATION_ERROR',
      );
    }
    const noAnalytics = await createKey(['users:read']);
    await expectError(
      await api.call('/api/v1/analytics/realtime', { headers: { 'x-api-key': noAnalytics.key } }),
      403,
      'PERMISSION_DENIED',
    );
  });
});
