import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { UsageLogsWriter } from '../src/modules/usage/usage-logs.writer.js';
import type { UsageRecord } from '../src/modules/usage/usage-record.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { expectError, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { usageDrained } from './support/usage-drained.js';
import { eventually } from './support/wait.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

interface LimitEvent {
  timestamp: string;
  user_id: string | null;
  api_key_id: string | null;
  method: string;
  endpoint: string;
  limit_type: string;
  limit_value: number;
  current_usage: number;
  request_id: string;
}

interface LimitEvents {
  start_date: string;
  end_date: string;
  total_events: number;
  limit: number;
  offset: number;
  events: LimitEvent[];
}

describe('GET /analytics/rate-limits: refused requests, read from the usage log', () => {
  let api: TestApp;
  let owner: Account;
  let stranger: Account;
  let dataSource: DataSource;
  const startedAt = new Date(Date.now() - MINUTE_MS).toISOString();

  beforeAll(async () => {
    api = await startApp({ imports: [UsageIngestModule] });
    [owner, stranger] = await Promise.all([registerOwner(api), registerOwner(api, 'stranger')]);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'limited', environment: 'live', ...body }),
    );
    return (await expectStatus<{ data: { id: string; key: string } }>(response, 201)).data;
  }

  const rateLimits = (account: Account, query: Record<string, string>) =>
    api.call(
      `/api/v1/analytics/rate-limits?${new URLSearchParams(query).toString()}`,
      as(account, 'GET'),
    );

  async function events(query: Record<string, string>): Promise<LimitEvents> {
    const response = await rateLimits(owner, { start_date: startedAt, ...query });
    return (await expectStatus<{ data: LimitEvents }>(response, 200)).data;
  }

  /** `times` requests with the key, their statuses and request ids. */
  async function send(secret: string, times: number) {
    const sent: { status: number; requestId: string | null }[] = [];
    for (let i = 0; i < times; i += 1) {
      const response = await api.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });
      await response.arrayBuffer();
      sent.push({ status: response.status, requestId: response.headers.get('x-request-id') });
    }
    return sent;
  }

  it('a key limited to 2 a minute sent 5 requests: 3 events, each with its window, limit and usage', async () => {
    const key = await createKey({
      permissions: ['users:read'],
      rate_limits: [{ window: 'minute', limit: 2 }],
    });
    const sent = await send(key.key, 5);
    expect(sent.map((request) => request.status)).toEqual([200, 200, 429, 429, 429]);
    const refusedIds = sent.filter((request) => request.status === 429).map((r) => r.requestId);

    const answer = await eventually(async () => {
      const read = await events({ api_key_id: key.id });
      expect(read.total_events).toBe(3);
      return read;
    });
    expect(answer).toMatchObject({ limit: 20, offset: 0 });
    expect(answer.events).toHaveLength(3);
    for (const event of answer.events) {
      expect(event).toEqual({
        timestamp: expect.any(String) as unknown,
        user_id: null,
        api_key_id: key.id,
        method: 'GET',
        endpoint: '/api/v1/auth/me',
        limit_type: 'minute',
        limit_value: 2,
        current_usage: 2,
        request_id: expect.any(String) as unknown,
      });
    }
    expect(answer.events.map((event) => event.request_id).sort()).toEqual(refusedIds.sort());
    const times = answer.events.map((event) => Date.parse(event.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // total_events is the usage log's 429s for the key, and the rollups' refusals.
    const [logged] = await dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM usage_logs WHERE api_key_id = $1 AND status = 429',
      [key.id],
    );
    expect(logged?.count).toBe(3);
    await usageDrained(dataSource, [key.id], 5);
    const usage = await api.call(
      `/api/v1/analytics/usage?${new URLSearchParams({ start_date: startedAt, api_key_id: key.id }).toString()}`,
      as(owner, 'GET'),
    );
    const { data } = await expectStatus<{ data: { rate_limited: number; quota_exceeded: number } }>(
      usage,
      200,
    );
    expect(data.rate_limited + data.quota_exceeded).toBe(answer.total_events);

    // Pages of 2: the same 3 events, each once, newest first.
    const first = await events({ api_key_id: key.id, limit: '2' });
    const rest = await events({ api_key_id: key.id, limit: '2', offset: '2' });
    expect(first).toMatchObject({ total_events: 3, limit: 2, offset: 0 });
    expect([...first.events, ...rest.events]).toEqual(answer.events);
  });

  it('a quota refusal is its own limit_type', async () => {
    const key = await createKey({
      permissions: ['users:read'],
      quota: { period: 'daily', max_requests: 1 },
    });
    expect((await send(key.key, 2)).map((request) => request.status)).toEqual([200, 429]);
    const answer = await eventually(async () => {
      const read = await events({ api_key_id: key.id });
      expect(read.total_events).toBe(1);
      return read;
    });
    expect(answer.events).toEqual([
      expect.objectContaining({
        api_key_id: key.id,
        limit_type: 'quota',
        limit_value: 1,
        current_usage: 1,
      }),
    ]);
  });

  it("filters by user; a batch delivered twice counts once; another organization's key is a 404", async () => {
    const writer = api.app.get(UsageLogsWriter);
    const now = Date.now();
    const records: UsageRecord[] = [1, 2].map((i) => ({
      id: randomUUID(),
      created_at: new Date(now - i * 1_000).toISOString(),
      organization_id: owner.organizationId,
      api_key_id: null,
      user_id: owner.userId,
      project_id: null,
      method: 'POST',
      path: '/api/v1/projects',
      route: '/api/v1/projects',
      status: 429,
      response_time_ms: 0.5,
      request_bytes: 20,
      response_bytes: 200,
      ip: '127.0.0.1',
      user_agent: 'rate-limits-spec',
      api_version: 'v1',
      error_code: 'RATE_LIMIT_EXCEEDED',
      request_id: `user-refusal-${i}-${randomUUID()}`,
      limit_type: 'hour',
      limit_value: 1_000,
      current_usage: 1_000,
    }));
    await writer.write({ records });
    await writer.write({ records });
    const byUser = await events({ user_id: owner.userId });
    expect(byUser.total_events).toBe(2);
    expect(byUser.events.map((event) => event.request_id)).toEqual(
      records.map((record) => record.request_id),
    );
    expect(byUser.events[0]).toMatchObject({
      user_id: owner.userId,
      api_key_id: null,
      method: 'POST',
      endpoint: '/api/v1/projects',
      limit_type: 'hour',
      limit_value: 1_000,
    });
    // Unfiltered: every refusal of the organization, the user's and the keys' alike.
    expect((await events({})).total_events).toBeGreaterThanOrEqual(2 + 3 + 1);

    // Another organization: our key id is a 404, our user's id and its own range are empty.
    const key = await createKey({ permissions: ['users:read'] });
    await expectError(
      await rateLimits(stranger, { api_key_id: key.id }),
      404,
      'RESOURCE_NOT_FOUND',
    );
    await expectError(
      await rateLimits(owner, { api_key_id: randomUUID() }),
      404,
      'RESOURCE_NOT_FOUND',
    );
    for (const query of [{ user_id: owner.userId }, {}] as Record<string, string>[]) {
      const theirs = await rateLimits(stranger, { start_date: startedAt, ...query });
      const answer = await expectStatus<{ data: LimitEvents }>(theirs, 200);
      expect(answer.data).toMatchObject({ total_events: 0, events: [] });
    }
  });

  it('bad parameters are a 400 naming the field; reading needs analytics:read', async () => {
    const bad = async (query: Record<string, string>, field: string) => {
      const error = await expectError(await rateLimits(owner, query), 400, 'VALIDATION_ERROR');
      expect(error.details).toContainEqual(expect.objectContaining({ field }));
    };
    const now = Date.now();
    await bad(
      { start_date: new Date(now).toISOString(), end_date: new Date(now - DAY_MS).toISOString() },
      'end_date',
    );
    await bad(
      {
        start_date: new Date(now - 400 * DAY_MS).toISOString(),
        end_date: new Date(now).toISOString(),
      },
      'end_date',
    );
    await bad({ start_date: 'yesterday' }, 'start_date');
    await bad({ limit: '101' }, 'limit');
    await bad({ offset: '-1' }, 'offset');
    await bad({ api_key_id: 'nope' }, 'api_key_id');
    await bad({ user_id: 'nope' }, 'user_id');
    await bad({ interval: 'hour' }, 'interval');

    const noAnalytics = await createKey({ permissions: ['users:read'] });
    await expectError(
      await api.call('/api/v1/analytics/rate-limits', {
        headers: { 'x-api-key': noAnalytics.key },
      }),
      403,
      'PERMISSION_DENIED',
    );
    const reader = await createKey({ permissions: ['analytics:read'] });
    const allowed = await api.call('/api/v1/analytics/rate-limits', {
      headers: { 'x-api-key': reader.key },
    });
    await expectStatus(allowed, 200);
    await expectError(
      await api.call('/api/v1/analytics/rate-limits'),
      401,
      'AUTHENTICATION_FAILED',
    );
  });
});
