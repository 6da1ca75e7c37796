import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { UsageLogsWriter } from '../src/modules/usage/usage-logs.writer.js';
import type { UsageRecord } from '../src/modules/usage/usage-record.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type Page, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Rows every 29 min 17.3 s over 12 days: both sides of the minute rollups' 7 days, no edge aligned. */
const STEP_MS = 29 * MINUTE_MS + 17_300;
const SPAN_MS = 12 * DAY_MS;

describe('GET /usage-logs total: from the rollups and the edges, equal to the rows listed', () => {
  let api: TestApp;
  let owner: Account;
  let dataSource: DataSource;
  const keyId = randomUUID();
  const otherKeyId = randomUUID();
  /** Before this, only the records written here: the owner's own requests come after. */
  let seededUntil: number;

  beforeAll(async () => {
    api = await startApp({ imports: [UsageIngestModule] });
    owner = await registerOwner(api);
    dataSource = api.app.get(DataSource);
    seededUntil = Date.now() - MINUTE_MS;
    const records: UsageRecord[] = [];
    for (let at = seededUntil - SPAN_MS, i = 0; at < seededUntil; at += STEP_MS, i += 1) {
      const byUser = i % 7 === 0;
      records.push({
        id: randomUUID(),
        created_at: new Date(at).toISOString(),
        organization_id: owner.organizationId,
        api_key_id: byUser ? null : i % 3 === 0 ? otherKeyId : keyId,
        user_id: byUser ? owner.userId : null,
        project_id: i % 4 === 0 ? null : (i % 2) + 1,
        method: i % 5 === 0 ? 'POST' : 'GET',
        path: `/api/v1/things/${i}`,
        route: i % 2 === 0 ? '/api/v1/things/:id' : '/api/v1/others/:id',
        status: [200, 201, 404, 429, 500][i % 5] ?? 200,
        response_time_ms: 1 + (i % 90),
        request_bytes: 0,
        response_bytes: 10,
        ip: '127.0.0.1',
        user_agent: 'total-spec',
        api_version: 'v1',
        error_code: i % 5 === 3 ? 'RATE_LIMIT_EXCEEDED' : null,
        request_id: `total-${i}`,
        limit_type: null,
        limit_value: null,
        current_usage: null,
      });
    }
    await api.app.get(UsageLogsWriter).write({ records });
  });

  afterAll(async () => {
    await api.close();
  });

  /** The total the endpoint answers, the page it lists, and count(*) over the same rows. */
  async function compare(query: Record<string, string>, where: string, params: unknown[]) {
    const response = await api.call(
      `/api/v1/usage-logs?${new URLSearchParams({ limit: '100', ...query }).toString()}`,
      as(owner, 'GET'),
    );
    const page = await expectStatus<Page<{ request_id: string }>>(response, 200);
    const [{ rows }] = await dataSource.query<{ rows: number }[]>(
      `SELECT count(*)::int AS rows FROM usage_logs WHERE organization_id = $1 AND ${where}`,
      [owner.organizationId, ...params],
    );
    expect(page.total).toBe(rows);
    expect(page.data).toHaveLength(Math.min(rows, 100));
    return rows;
  }

  const iso = (ms: number) => new Date(ms).toISOString();

  it('ranges with unaligned edges, before and within the minute rollups, and open ends', async () => {
    const start = seededUntil - 11 * DAY_MS + 7 * MINUTE_MS + 13_017;
    const end = seededUntil - 2 * MINUTE_MS - 4_321;
    const counted = await compare(
      { start_date: iso(start), end_date: iso(end) },
      'created_at >= $2 AND created_at < $3',
      [new Date(start), new Date(end)],
    );
    expect(counted).toBeGreaterThan(400);
    const early = seededUntil - 3 * DAY_MS - 17_000;
    await compare({ end_date: iso(early) }, 'created_at < $2', [new Date(early)]);
    const recent = seededUntil - 2 * DAY_MS - 41_000;
    await compare(
      { start_date: iso(recent), end_date: iso(seededUntil) },
      'created_at >= $2 AND created_at < $3',
      [new Date(recent), new Date(seededUntil)],
    );
    // A range shorter than any bucket, and one holding no row.
    const short = seededUntil - 5 * DAY_MS;
    await compare(
      { start_date: iso(short), end_date: iso(short + 50 * MINUTE_MS) },
      'created_at >= $2 AND created_at < $3',
      [new Date(short), new Date(short + 50 * MINUTE_MS)],
    );
    expect(
      await compare(
        { start_date: iso(seededUntil - SPAN_MS - DAY_MS), end_date: iso(seededUntil - SPAN_MS) },
        'created_at >= $2 AND created_at < $3',
        [new Date(seededUntil - SPAN_MS - DAY_MS), new Date(seededUntil - SPAN_MS)],
      ),
    ).toBe(0);
  });

  it('every filter: key (with no range at all), user, project, route, method, status and its class', async () => {
    await compare({ api_key_id: keyId }, 'api_key_id = $2', [keyId]);
    const range = { start_date: iso(seededUntil - 9 * DAY_MS - 5_000), end_date: iso(seededUntil) };
    const inRange = 'created_at >= $2 AND created_at < $3';
    const bounds = [new Date(range.start_date), new Date(range.end_date)];
    await compare({ ...range, user_id: owner.userId }, `${inRange} AND user_id = $4`, [
      ...bounds,
      owner.userId,
    ]);
    await compare({ ...range, project_id: '2' }, `${inRange} AND project_id = $4`, [...bounds, 2]);
    await compare(
      { ...range, endpoint: '/api/v1/things/:id', method: 'POST' },
      `${inRange} AND route = $4 AND method = $5`,
      [...bounds, '/api/v1/things/:id', 'POST'],
    );
    await compare({ ...range, status: '4xx' }, `${inRange} AND status >= 400 AND status < 500`, [
      ...bounds,
    ]);
    await compare(
      { ...range, status: '429', api_key_id: otherKeyId },
      `${inRange} AND status = 429 AND api_key_id = $4`,
      [...bounds, otherKeyId],
    );
    await compare({ request_id: 'total-12' }, 'request_id = $2', ['total-12']);
  });

  it('rows gone from usage_logs by retention (the rollups keep them longer) are not counted', async () => {
    // What retention does: every row before a point in time is gone from the log only.
    const cutoff = seededUntil - 10 * DAY_MS + 3 * MINUTE_MS;
    await dataSource.query(
      'DELETE FROM usage_logs WHERE organization_id = $1 AND created_at < $2',
      [owner.organizationId, new Date(cutoff)],
    );
    await compare({ api_key_id: keyId }, 'api_key_id = $2', [keyId]);
    const start = iso(seededUntil - 11 * DAY_MS);
    await compare(
      { start_date: start, end_date: iso(seededUntil) },
      'created_at >= $2 AND created_at < $3',
      [new Date(start), new Date(seededUntil)],
    );
  });

  it('the page and the total agree while batches commit between reads', async () => {
    // A fresh key, each batch three rows of it: every answer must list exactly `total` rows
    // (all fit on one page), whatever committed while it was read.
    const busyKeyId = randomUUID();
    const writer = api.app.get(UsageLogsWriter);
    const record = (i: number): UsageRecord => ({
      id: randomUUID(),
      created_at: new Date(Date.now() - 1_000 - i).toISOString(),
      organization_id: owner.organizationId,
      api_key_id: busyKeyId,
      user_id: null,
      project_id: null,
      method: 'GET',
      path: '/api/v1/busy',
      route: '/api/v1/busy',
      status: 200,
      response_time_ms: 3,
      request_bytes: 0,
      response_bytes: 10,
      ip: '127.0.0.1',
      user_agent: 'total-spec',
      api_version: 'v1',
      error_code: null,
      request_id: `busy-${i}`,
      limit_type: null,
      limit_value: null,
      current_usage: null,
    });
    const writing = (async () => {
      for (let batch = 0; batch < 30; batch += 1)
        await writer.write({ records: [0, 1, 2].map((n) => record(batch * 3 + n)) });
    })();
    const answers: { listed: number; total: number }[] = [];
    let done = false;
    void writing.finally(() => (done = true));
    while (!done) {
      const response = await api.call(
        `/api/v1/usage-logs?limit=100&api_key_id=${busyKeyId}`,
        as(owner, 'GET'),
      );
      const page = await expectStatus<Page<{ request_id: string }>>(response, 200);
      answers.push({ listed: page.data.length, total: page.total });
    }
    await writing;
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) expect(answer.listed).toBe(answer.total);
  });
});
