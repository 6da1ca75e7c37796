import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { HISTOGRAM_COLUMNS } from '../src/modules/usage/latency-histogram.js';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { UsageLogsRetention } from '../src/modules/usage/usage-logs-retention.js';
import { UsageLogsWriter } from '../src/modules/usage/usage-logs.writer.js';
import { FOLD_GRACE_MS, UsageRollups } from '../src/modules/usage/usage-rollups.js';
import type { UsageRecord } from '../src/modules/usage/usage-record.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type Page, expectError, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { rolledUp, usageDrained } from './support/usage-drained.js';
import { eventually } from './support/wait.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface DataPoint {
  timestamp: string;
  requests: number;
  success_count: number;
  error_count: number;
  rate_limited: number;
  quota_exceeded: number;
  average_response_time: number | null;
  p95: number | null;
}
interface Usage {
  start_date: string;
  end_date: string;
  total_requests: number;
  success_rate: number | null;
  error_rate: number | null;
  rate_limited: number;
  quota_exceeded: number;
  average_response_time: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  data_points: DataPoint[];
}
interface UsageLog {
  id: string;
  status: number;
  route: string;
  response_time: number;
  api_key_id: string | null;
  request_id: string;
}

const floorTo = (ms: number, unit: number) => new Date(Math.floor(ms / unit) * unit);
const ceilTo = (ms: number, unit: number) => new Date(Math.ceil((ms + 1) / unit) * unit);

describe('usage analytics: rollups and their readers', () => {
  // Two api processes' worth of app; the first also runs the worker's usage processor.
  let api: TestApp;
  let other: TestApp;
  let owner: Account;
  let stranger: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    [api, other] = await Promise.all([startApp({ imports: [UsageIngestModule] }), startApp()]);
    [owner, stranger] = await Promise.all([registerOwner(api), registerOwner(api, 'stranger')]);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'analytics key',
        environment: 'live',
        permissions: ['users:read', 'projects:read'],
        ...body,
      }),
    );
    return (await expectStatus<{ data: { id: string; key: string } }>(response, 201)).data;
  }

  const usage = async (
    account: Account,
    query: Record<string, string>,
    path = '/api/v1/analytics/usage',
  ) => {
    const response = await api.call(
      `${path}?${new URLSearchParams(query).toString()}`,
      as(account, 'GET'),
    );
    return (await expectStatus<{ data: Usage }>(response, 200)).data;
  };

  const logs = async (account: Account, query: Record<string, string>) => {
    const response = await api.call(
      `/api/v1/usage-logs?${new URLSearchParams(query).toString()}`,
      as(account, 'GET'),
    );
    return expectStatus<Page<UsageLog>>(response, 200);
  };

  const rollupSums = (table: string, keyId: string) =>
    dataSource.query<{ status: number; requests: number; rate_limited: number }[]>(
      `SELECT status, sum(requests)::int AS requests, sum(rate_limited)::int AS rate_limited
       FROM ${table} WHERE api_key_id = $1 GROUP BY status ORDER BY status`,
      [keyId],
    );

  it('N requests of mixed outcomes across two processes: usage logs, rollups and analytics all count N', async () => {
    const startedAt = Date.now();
    const plain = await createKey({});
    const limited = await createKey({ rate_limits: [{ window: 'minute', limit: 2 }] });
    let sent = 0;
    const call = async (path: string, secret: string) => {
      const app = sent % 2 === 0 ? api : other;
      sent += 1;
      const response = await app.call(path, { headers: { 'x-api-key': secret } });
      await response.arrayBuffer();
      return response.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push(await call('/api/v1/auth/me', plain.key));
    for (let i = 0; i < 4; i += 1) statuses.push(await call('/api/v1/projects/999999', plain.key));
    for (let i = 0; i < 3; i += 1) statuses.push(await call('/api/v1/keys', plain.key));
    const limitedStatuses: number[] = [];
    for (let i = 0; i < 5; i += 1) limitedStatuses.push(await call('/api/v1/auth/me', limited.key));
    const repeat = (status: number, times: number): number[] => Array<number>(times).fill(status);
    expect(statuses).toEqual([...repeat(200, 6), ...repeat(404, 4), ...repeat(403, 3)]);
    expect(limitedStatuses).toEqual([200, 200, 429, 429, 429]);
    const n = statuses.length;

    // Drained: every request is in usage_logs, and the rollups hold them.
    await usageDrained(dataSource, [plain.id, limited.id], n + limitedStatuses.length);
    const expectedByStatus = [
      { status: 200, requests: 6, rate_limited: 0 },
      { status: 403, requests: 3, rate_limited: 0 },
      { status: 404, requests: 4, rate_limited: 0 },
    ];
    for (const table of ['usage_rollups_minute', 'usage_hours', 'usage_days']) {
      expect(await rollupSums(table, plain.id)).toEqual(expectedByStatus);
      expect(await rollupSums(table, limited.id)).toEqual([
        { status: 200, requests: 2, rate_limited: 0 },
        { status: 429, requests: 3, rate_limited: 3 },
      ]);
    }

    // The same answer whichever rollups the range is read from (minute, hour or day).
    const now = Date.now();
    const ranges = [
      { start: floorTo(startedAt, MINUTE_MS), end: ceilTo(now, MINUTE_MS), interval: 'minute' },
      { start: floorTo(startedAt, HOUR_MS), end: ceilTo(now, HOUR_MS), interval: 'hour' },
      { start: floorTo(startedAt, DAY_MS), end: ceilTo(now, DAY_MS), interval: 'day' },
      { start: floorTo(startedAt, DAY_MS), end: ceilTo(now, DAY_MS), interval: 'month' },
      {
        start: floorTo(startedAt - 3 * DAY_MS, MINUTE_MS),
        end: ceilTo(now, MINUTE_MS),
        interval: 'week',
      },
    ];
    const [maxRow] = await dataSource.query<{ max: number }[]>(
      'SELECT max(response_time_ms) AS max FROM usage_logs WHERE api_key_id = $1',
      [plain.id],
    );
    for (const range of ranges) {
      const query = {
        start_date: range.start.toISOString(),
        end_date: range.end.toISOString(),
        interval: range.interval,
        api_key_id: plain.id,
      };
      const answer = await usage(owner, query);
      expect(answer).toMatchObject({ total_requests: n, rate_limited: 0, quota_exceeded: 0 });
      expect(answer.start_date).toBe(query.start_date);
      expect(answer.success_rate).toBeCloseTo(6 / n, 10);
      expect(answer.error_rate).toBeCloseTo(7 / n, 10);
      const points = answer.data_points;
      expect(points.reduce((sum, point) => sum + point.requests, 0)).toBe(n);
      expect(points.reduce((sum, point) => sum + point.error_count, 0)).toBe(7);
      expect(points.reduce((sum, point) => sum + point.success_count, 0)).toBe(6);
      const [p50, p95, p99] = [answer.p50 ?? NaN, answer.p95 ?? NaN, answer.p99 ?? NaN];
      expect(p50).toBeGreaterThan(0);
      expect(p95).toBeGreaterThanOrEqual(p50);
      expect(p99).toBeGreaterThanOrEqual(p95);
      expect(p99).toBeLessThanOrEqual((maxRow?.max ?? 0) + 0.001);
      // Totals equal what the usage log holds for the same filter and range.
      const logged = await logs(owner, {
        start_date: answer.start_date,
        end_date: answer.end_date,
        api_key_id: plain.id,
      });
      expect(logged.total).toBe(answer.total_requests);
    }

    const range = {
      start_date: floorTo(startedAt, MINUTE_MS).toISOString(),
      end_date: ceilTo(now, MINUTE_MS).toISOString(),
      interval: 'minute',
    };
    // Per status, per class, per route; the rejections' own series.
    const total = async (query: Record<string, string>) =>
      (await usage(owner, { ...range, ...query })).total_requests;
    expect(await total({ api_key_id: plain.id, status: '404' })).toBe(4);
    expect(await total({ api_key_id: plain.id, status: '4xx' })).toBe(7);
    expect(await total({ api_key_id: plain.id, status: '2xx' })).toBe(6);
    expect(await total({ api_key_id: plain.id, endpoint: '/api/v1/projects/:id' })).toBe(4);
    expect(await total({ status: '429' })).toBe(3);
    const limitedUsage = await usage(owner, { ...range, api_key_id: limited.id });
    expect(limitedUsage).toMatchObject({ total_requests: 5, rate_limited: 3 });

    // GET /keys/{id}/usage is the same answer.
    const byKey = await usage(owner, range, `/api/v1/keys/${plain.id}/usage`);
    expect(byKey).toEqual(await usage(owner, { ...range, api_key_id: plain.id }));

    // The raw log: paginated, filtered, newest first.
    const page = await logs(owner, { api_key_id: plain.id, status: '404', limit: '3' });
    expect(page).toMatchObject({ total: 4, limit: 3, offset: 0 });
    expect(page.data).toHaveLength(3);
    expect(page.data.every((row) => row.route === '/api/v1/projects/:id')).toBe(true);
    const rest = await logs(owner, {
      api_key_id: plain.id,
      status: '404',
      limit: '3',
      offset: '3',
    });
    expect(rest.data).toHaveLength(1);
    expect(new Set([...page.data, ...rest.data].map((row) => row.id)).size).toBe(4);

    // Another organization: its own key ids only. A key id of ours is a 404 (as an unknown
    // one is), in /keys/{id}/usage and /analytics/usage alike; the log lists nothing.
    for (const path of [
      `/api/v1/keys/${plain.id}/usage`,
      `/api/v1/analytics/usage?${new URLSearchParams({ ...range, api_key_id: plain.id }).toString()}`,
      `/api/v1/analytics/usage?${new URLSearchParams({ ...range, api_key_id: randomUUID() }).toString()}`,
    ]) {
      await expectError(await api.call(path, as(stranger, 'GET')), 404, 'RESOURCE_NOT_FOUND');
    }
    expect(await logs(stranger, { api_key_id: plain.id })).toMatchObject({ total: 0, data: [] });
  });

  it('bad ranges are a 400 naming the field, and reading needs analytics:read', async () => {
    const bad = async (query: Record<string, string>, field: string) => {
      const response = await api.call(
        `/api/v1/analytics/usage?${new URLSearchParams(query).toString()}`,
        as(owner, 'GET'),
      );
      const error = await expectError(response, 400, 'VALIDATION_ERROR');
      expect((error.details as { field: string }[]).map((detail) => detail.field)).toEqual([field]);
    };
    const now = Date.now();
    await bad(
      { start_date: new Date(now).toISOString(), end_date: new Date(now - DAY_MS).toISOString() },
      'end_date',
    );
    await bad(
      { start_date: '2025-01-01T00:00:00Z', end_date: '2026-02-02T00:00:00Z', interval: 'day' },
      'end_date',
    );
    await bad(
      { start_date: new Date(now - 7 * DAY_MS + 10 * MINUTE_MS).toISOString(), interval: 'minute' },
      'interval',
    );
    await bad(
      { start_date: new Date(now - 20 * DAY_MS).toISOString(), interval: 'minute' },
      'start_date',
    );
    await bad({ start_date: '01/02/2026' }, 'start_date');
    // Decimal digits only: Number() would read 0x10 as project 16.
    const hex = await api.call('/api/v1/analytics/usage?project_id=0x10', as(owner, 'GET'));
    const hexError = await expectError(hex, 400, 'VALIDATION_ERROR');
    expect(hexError.details).toContainEqual(expect.objectContaining({ field: 'project_id' }));
    await bad({ start_date: '2026-02-30T00:00:00Z' }, 'start_date');
    await bad({ interval: 'year' }, 'interval');
    await bad({ status: 'abc' }, 'status');
    await bad({ api_key_id: 'not-a-uuid' }, 'api_key_id');

    const noAnalytics = await createKey({});
    await expectError(
      await api.call('/api/v1/analytics/usage', { headers: { 'x-api-key': noAnalytics.key } }),
      403,
      'PERMISSION_DENIED',
    );
    const reader = await createKey({ permissions: ['analytics:read'] });
    const response = await api.call('/api/v1/analytics/usage?interval=hour', {
      headers: { 'x-api-key': reader.key },
    });
    const body = await expectStatus<{ data: Usage }>(response, 200);
    // 24 hours: 25 hourly points unless the range starts on the hour.
    expect([24, 25]).toContain(body.data.data_points.length);
  });

  describe('rollups are written from inserted rows only', () => {
    function records(organizationId: string, count: number, createdAt = Date.now()): UsageRecord[] {
      return Array.from({ length: count }, (_, i) => ({
        id: randomUUID(),
        created_at: new Date(createdAt - (i % 5)).toISOString(),
        organization_id: organizationId,
        api_key_id: null,
        user_id: organizationId,
        project_id: null,
        method: 'GET',
        path: '/api/v1/auth/me',
        route: '/api/v1/auth/me',
        status: i % 4 === 0 ? 429 : 200,
        response_time_ms: 1 + (i % 100),
        request_bytes: 0,
        response_bytes: 100,
        ip: '127.0.0.1',
        user_agent: 'analytics-spec',
        api_version: 'v1',
        error_code: i % 4 === 0 ? 'QUOTA_EXCEEDED' : null,
        request_id: `rollup-${i}`,
        limit_type: i % 4 === 0 ? 'quota' : null,
        limit_value: i % 4 === 0 ? 1_000 : null,
        current_usage: i % 4 === 0 ? 1_000 : null,
      }));
    }

    /** What readers read: the minute rollups, or an hour or day rollup's view (folded + minutes). */
    const rollup = (t: string) => (t === 'minute' ? 'usage_rollups_minute' : `usage_${t}s`);
    const totals = (organizationId: string) =>
      dataSource.query<{ table: string; requests: number; quota: number; histogram: number }[]>(
        `SELECT t AS table, sum(requests)::int AS requests, sum(quota_exceeded)::int AS quota,
           sum(${HISTOGRAM_COLUMNS.join(' + ')})::int AS histogram
         FROM (${['minute', 'hour', 'day', 'org_hour', 'org_day']
           .map(
             (t) => `SELECT '${t}' AS t, organization_id, requests, quota_exceeded,
               ${HISTOGRAM_COLUMNS.join(', ')} FROM ${rollup(t)}`,
           )
           .join(' UNION ALL ')}) AS r
         WHERE organization_id = $1 GROUP BY t ORDER BY t`,
        [organizationId],
      );

    it('a batch delivered twice does not double the rollups', async () => {
      const writer = api.app.get(UsageLogsWriter);
      const organizationId = randomUUID();
      const batch = records(organizationId, 40);
      expect(await writer.write({ records: batch })).toMatchObject({ inserted: 40 });
      expect(await writer.write({ records: batch })).toMatchObject({ inserted: 0 });
      const fresh = records(organizationId, 8);
      expect(await writer.write({ records: [...batch.slice(0, 20), ...fresh] })).toMatchObject({
        inserted: 8,
      });
      await rolledUp(dataSource, organizationId);
      const expected = { requests: 48, quota: 12, histogram: 48 };
      expect(await totals(organizationId)).toEqual([
        { table: 'day', ...expected },
        { table: 'hour', ...expected },
        { table: 'minute', ...expected },
        { table: 'org_day', ...expected },
        { table: 'org_hour', ...expected },
      ]);
    });

    it('concurrent batches adding to the same rollup rows lose nothing and do not deadlock', async () => {
      const writer = api.app.get(UsageLogsWriter);
      const organizationId = randomUUID();
      const now = Date.now();
      const batches = Array.from({ length: 6 }, () => records(organizationId, 500, now));
      await Promise.all(batches.map((batch) => writer.write({ records: batch })));
      await rolledUp(dataSource, organizationId);
      const expected = { requests: 3000, quota: 750, histogram: 3000 };
      expect(await totals(organizationId)).toEqual([
        { table: 'day', ...expected },
        { table: 'hour', ...expected },
        { table: 'minute', ...expected },
        { table: 'org_day', ...expected },
        { table: 'org_hour', ...expected },
      ]);
    });

    it('an ended hour is folded into the hour and day rollups, and a late row goes there itself', async () => {
      const writer = api.app.get(UsageLogsWriter);
      const rollups = api.app.get(UsageRollups);
      const organizationId = randomUUID();
      const now = Date.now();
      await writer.write({ records: records(organizationId, 40, now) });
      await rolledUp(dataSource, organizationId);
      const tables = async () =>
        (
          await dataSource.query<{ t: string; requests: number }[]>(
            `SELECT t, sum(requests)::int AS requests FROM (${[
              'hour',
              'day',
              'org_hour',
              'key_hour',
            ]
              .map((t) => `SELECT '${t}' AS t, organization_id, requests FROM usage_rollups_${t}`)
              .join(' UNION ALL ')}) AS r WHERE organization_id = $1 GROUP BY t ORDER BY t`,
            [organizationId],
          )
        ).map(({ t, requests }) => `${t} ${requests}`);
      const folded = async () =>
        (
          await dataSource.query<{ mark: Date }[]>(
            'SELECT folded_until AS mark FROM usage_rollup_folds',
          )
        )[0]?.mark.getTime();
      const mark = (await folded()) ?? 0;
      // This hour is not folded yet (unless the run has crossed into a later hour and the
      // worker folded it meanwhile): its rows are in the minutes, and the views add them.
      if (mark <= now) expect(await tables()).toEqual([]);
      const expected = { requests: 40, quota: 10, histogram: 40 };
      const all = (e: typeof expected) =>
        ['day', 'hour', 'minute', 'org_day', 'org_hour'].map((table) => ({ table, ...e }));
      expect(await totals(organizationId)).toEqual(all(expected));

      // Steps of a worker whose clock is past this hour's end and the grace: every hour up to
      // this one folded (one a step; a step finding the worker's own step under way does
      // nothing), the mark after this hour.
      const endOfHour = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS;
      await eventually(async () => {
        await rollups.step(new Date(endOfHour + FOLD_GRACE_MS));
        expect(await folded()).toBe(endOfHour);
      });
      expect(await tables()).toEqual(['day 40', 'hour 40', 'org_hour 40']);
      expect(await totals(organizationId)).toEqual(all(expected));

      // A row of this hour arriving now is late: the step adds it to the coarse rollups too.
      await writer.write({ records: records(organizationId, 4, now) });
      await rolledUp(dataSource, organizationId);
      expect(await tables()).toEqual(['day 44', 'hour 44', 'org_hour 44']);
      expect(await totals(organizationId)).toEqual(all({ requests: 44, quota: 11, histogram: 44 }));
    });

    it('retention keeps minute rollups 7 days and hour and day rollups 13 months', async () => {
      const writer = api.app.get(UsageLogsWriter);
      const organizationId = randomUUID();
      const now = Date.now();
      await writer.write({ records: records(organizationId, 4, now - 400 * DAY_MS) });
      await writer.write({ records: records(organizationId, 3, now - 10 * DAY_MS) });
      await writer.write({ records: records(organizationId, 2, now) });
      await rolledUp(dataSource, organizationId);
      await api.app.get(UsageLogsRetention).purge(new Date(now));
      const kept = await totals(organizationId);
      expect(kept.map(({ table, requests }) => ({ table, requests }))).toEqual([
        { table: 'day', requests: 5 },
        { table: 'hour', requests: 5 },
        { table: 'minute', requests: 2 },
        { table: 'org_day', requests: 5 },
        { table: 'org_hour', requests: 5 },
      ]);
    });
  });
});
