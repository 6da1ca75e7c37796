import { loadavg } from 'node:os';
import pg from 'pg';
import {
  BENCH_ADMIN_ENV,
  benchAdmin,
  median,
  numberArg,
  percentile,
  startBuiltApi,
} from './harness.js';
import { seedUsage, uuidOf } from './usage-seed.js';

/**
 * The analytics read path over a large usage history: seeds `rows` usage rows over `days`
 * days (bench/usage-seed.ts, straight into usage_logs and the rollups), a quarter of them the
 * bench organization's, then times, with a key that has analytics:read, GET
 * /api/v1/analytics/usage over the last 30 days (hourly, hourly for one key, daily) and the
 * first page of GET /api/v1/usage-logs with its exact total (30 days, 30 days for one key's
 * 4xx, everything), and checks that total against count(*). Reports the median and p95 of
 * `runs` sequential requests each (goal: < 200 ms each). The database is the bench's own
 * and dropped at the end.
 * Usage: npm run bench:usage-read [-- --rows=10000000 --days=35 --runs=20 --share=0.25]
 */
const rows = numberArg('rows', 10_000_000);
const days = numberArg('days', 35);
const runs = numberArg('runs', 20);
const share = numberArg('share', 0.25);

const load = () => `load ${loadavg()[0]?.toFixed(2)}`;

const api = await startBuiltApi(BENCH_ADMIN_ENV);
try {
  const admin = await benchAdmin(api);
  await admin.raiseLimits();
  const key = await admin.createKey({ permissions: ['analytics:read'] });
  const db = new pg.Client({ connectionString: api.databaseUrl });
  await db.connect();
  const organization = (
    await db.query<{ organization_id: string }>(
      'SELECT organization_id FROM api_keys WHERE id = $1',
      [key.id],
    )
  ).rows[0]?.organization_id;
  if (organization === undefined) throw new Error('the bench key has no organization');

  const seedStarted = Date.now();
  await seedUsage(api.databaseUrl, {
    rows,
    days,
    target: organization,
    share,
    progress: (seeded) =>
      process.stdout.write(
        `seeded ${seeded} rows (${((Date.now() - seedStarted) / 1000).toFixed(0)} s, ${load()})\n`,
      ),
  });
  const counts = await db.query<{ grain: string; rows: string }>(
    `SELECT 'hour' AS grain, count(*)::text AS rows FROM usage_rollups_hour WHERE organization_id = $1
     UNION ALL SELECT 'day', count(*)::text FROM usage_rollups_day WHERE organization_id = $1
     UNION ALL SELECT 'minute', count(*)::text FROM usage_rollups_minute WHERE organization_id = $1`,
    [organization],
  );
  process.stdout.write(
    `seed: ${rows} rows over ${days} days in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s; ` +
      `the organization's rollup rows: ${counts.rows.map((r) => `${r.grain} ${r.rows}`).join(', ')}\n`,
  );
  // The organization's busiest seeded key (bench/usage-seed.ts).
  const busyKey =
    (await db.query<{ id: string }>(`SELECT ${uuidOf("$1 || 'key0'")}::text AS id`, [organization]))
      .rows[0]?.id ?? '';
  // A key of the organization's, as the API checks (another's or an unknown key is a 404).
  await db.query(
    `INSERT INTO api_keys (id, organization_id, name, environment, prefix, secret_hash, permissions)
     VALUES ($1::uuid, $2, 'seeded busiest key', 'live', 'gh_live_seed', decode(md5($1::text), 'hex'), '{}')`,
    [busyKey, organization],
  );
  await db.end();

  const end = new Date();
  const start = new Date(end.getTime() - 30 * 86_400_000);
  const range = { start_date: start.toISOString(), end_date: end.toISOString() };
  // The analytics usage query (rollups), then the raw log's first page with its exact total.
  const cases: [string, string, Record<string, string>][] = [
    ['usage, 30 days, hour', 'analytics/usage', { ...range, interval: 'hour' }],
    [
      'usage, 30 days, hour, one key',
      'analytics/usage',
      { ...range, interval: 'hour', api_key_id: busyKey },
    ],
    ['usage, 30 days, day', 'analytics/usage', { ...range, interval: 'day' }],
    ['usage-logs, 30 days, page 1', 'usage-logs', { ...range, limit: '20' }],
    [
      'usage-logs, 30 days, one key, 4xx',
      'usage-logs',
      { ...range, api_key_id: busyKey, status: '4xx' },
    ],
    ['usage-logs, everything, page 1', 'usage-logs', { limit: '20' }],
  ];
  const counted: Record<string, number> = {};
  for (const [name, path, query] of cases) {
    const url = `${api.url}/api/v1/${path}?${new URLSearchParams(query).toString()}`;
    const timings: number[] = [];
    for (let run = 0; run <= runs; run += 1) {
      const began = performance.now();
      const response = await fetch(url, { headers: { 'x-api-key': key.secret } });
      const body = (await response.json()) as {
        data?: { data_points?: { requests: number }[] } | unknown[];
        total?: number;
      };
      if (!response.ok) throw new Error(`${name}: ${response.status} ${JSON.stringify(body)}`);
      // The first run warms the caches and is not counted.
      if (run > 0) timings.push(performance.now() - began);
      counted[name] = Array.isArray(body.data)
        ? (body.total ?? -1)
        : (body.data?.data_points ?? []).reduce((sum, point) => sum + point.requests, 0);
    }
    process.stdout.write(
      `${name}: median ${median(timings).toFixed(0)} ms, p95 ${percentile(timings, 0.95).toFixed(0)} ms ` +
        `over ${runs} runs (${counted[name]} requests counted; ${load()}; goal < 200 ms)\n`,
    );
  }
  // The list's total is exact: the same as count(*) over the organization's rows.
  const check = new pg.Client({ connectionString: api.databaseUrl });
  await check.connect();
  const began = performance.now();
  const exact = (
    await check.query<{ rows: string }>(
      'SELECT count(*)::text AS rows FROM usage_logs WHERE organization_id = $1',
      [organization],
    )
  ).rows[0]?.rows;
  await check.end();
  process.stdout.write(
    `usage-logs total ${counted['usage-logs, everything, page 1']}, count(*) ${exact} ` +
      `(count(*) alone: ${(performance.now() - began).toFixed(0)} ms)\n`,
  );
} finally {
  await api.stop();
}
