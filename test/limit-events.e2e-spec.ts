import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { RateLimitConfig } from '../src/config/config.classes.js';
import { LimitEventsRetention } from '../src/modules/rate-limit/limit-events-retention.js';
import type { RateLimitEvent } from '../src/modules/rate-limit/limit-events.js';
import { LimitEventsWriter } from '../src/modules/rate-limit/limit-events.writer.js';
import { type TestApp, startApp } from './support/test-app.js';

const DAY_MS = 86_400_000;

describe('rate_limit_events: merged refusals, partitioned by day, with a retention', () => {
  let api: TestApp;
  let dataSource: DataSource;
  let writer: LimitEventsWriter;

  beforeAll(async () => {
    api = await startApp();
    dataSource = api.app.get(DataSource);
    writer = new LimitEventsWriter(dataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  const refusal = (
    at: Date,
    change: Partial<RateLimitEvent> & Pick<RateLimitEvent, 'organization_id'>,
  ): RateLimitEvent => ({
    api_key_id: null,
    user_id: null,
    method: 'GET',
    endpoint: '/api/v1/users',
    limit_type: 'minute',
    limit_source: 'tier',
    limit_value: 100,
    current_usage: 100,
    request_id: randomUUID(),
    occurred_at: at.toISOString(),
    ...change,
  });

  const write = (events: RateLimitEvent[]) =>
    writer.write({ rateLimitEvents: events, quotaEvents: [] });

  it('merges refusals per credential, window and minute, across batches', async () => {
    const organization = randomUUID();
    const key = randomUUID();
    const user = randomUUID();
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const at = (seconds: number) => new Date(minute.getTime() + seconds * 1000);
    await write([
      refusal(at(1), { organization_id: organization, api_key_id: key }),
      refusal(at(2), { organization_id: organization, api_key_id: key, current_usage: 101 }),
      refusal(at(3), { organization_id: organization, api_key_id: key, limit_type: 'hour' }),
      refusal(at(4), { organization_id: organization, user_id: user }),
    ]);
    const last = refusal(at(30), {
      organization_id: organization,
      api_key_id: key,
      endpoint: '/api/v1/projects',
    });
    await write([last]);
    await write([refusal(at(70), { organization_id: organization, api_key_id: key })]);

    const rows: Record<string, unknown>[] = await dataSource.query(
      `SELECT coalesce(api_key_id, user_id) = $2 AS by_key, limit_type, minute, refusals,
              current_usage, endpoint, request_id, first_at, last_at
       FROM rate_limit_events WHERE organization_id = $1 ORDER BY by_key DESC, minute, limit_type`,
      [organization, key],
    );
    expect(rows).toEqual([
      {
        by_key: true,
        limit_type: 'hour',
        minute,
        refusals: '1',
        current_usage: '100',
        endpoint: '/api/v1/users',
        request_id: expect.any(String) as unknown,
        first_at: at(3),
        last_at: at(3),
      },
      {
        by_key: true,
        limit_type: 'minute',
        minute,
        refusals: '3',
        current_usage: '101',
        endpoint: '/api/v1/projects',
        request_id: last.request_id,
        first_at: at(1),
        last_at: at(30),
      },
      expect.objectContaining({ by_key: true, minute: at(60), refusals: '1' }) as unknown,
      expect.objectContaining({ by_key: false, minute, refusals: '1' }) as unknown,
    ]);
  });

  it('keeps RATE_LIMIT_EVENTS_RETENTION_DAYS: whole day partitions are dropped, the next days created', async () => {
    const organization = randomUUID();
    const now = new Date();
    const day = (daysAgo: number) => {
      const date = new Date(now.getTime() - daysAgo * DAY_MS);
      return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), 12));
    };
    const name = (date: Date) =>
      `rate_limit_events_${date.toISOString().slice(0, 10).replaceAll('-', '')}`;
    const ancient = day(200);
    await dataSource.query('SELECT rate_limit_events_ensure_partition($1::date)', [
      ancient.toISOString().slice(0, 10),
    ]);
    // 200 days ago in its own partition; 100 days ago in DEFAULT (no partition); 2 days ago kept.
    await write([
      refusal(ancient, { organization_id: organization, api_key_id: randomUUID() }),
      refusal(day(100), { organization_id: organization, api_key_id: randomUUID() }),
      refusal(day(2), { organization_id: organization, api_key_id: randomUUID() }),
    ]);

    const retention = new LimitEventsRetention(dataSource, {
      eventsRetentionDays: 30,
    } as RateLimitConfig);
    const result = await retention.purge(now);
    expect(result.droppedPartitions).toContain(name(ancient));
    expect(result.deletedRows).toBeGreaterThanOrEqual(1);
    const left: { minute: Date }[] = await dataSource.query(
      'SELECT minute FROM rate_limit_events WHERE organization_id = $1',
      [organization],
    );
    expect(left.map((row) => row.minute)).toEqual([day(2)]);
    const [ahead] = await dataSource.query<{ present: boolean }[]>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [name(new Date(now.getTime() + 7 * DAY_MS))],
    );
    expect(ahead?.present).toBe(true);
  });
});
