import { loadavg } from 'node:os';
import pg from 'pg';
import { BENCH_ADMIN_ENV, benchAdmin, median, numberArg, startBuiltApi } from './harness.js';
import { seedUsage, uuidOf } from './usage-seed.js';

/**
 * The analytics read path over a large usage history: seeds `rows` usage rows over `days`
 * days (bench/usage-seed.ts, straight into usage_logs and the rollups), a quarter of them the
 * bench organization's, then times GET /api/v1/analytics/usage over the last 30 days with a
 * key that has analytics:read: hourly, hourly for one key, daily. Reports the median and p95
 * of `runs` sequential requests each (goal: 30-day hourly < 200 ms). The database is the
 * bench's own and dropped at the end.
 * Usage: npm run bench:usage-read [-- --rows=10000000 --days=35 --runs=20 --share=0.25]
 */
const rows = numberArg('rows', 10_000_000);
const days = numberArg('days', 35);
const runs = numberArg('runs', 20);
const share = numberArg('share', 0.25);

const load = () => `load ${loadavg()[0]?.toFixed(2)}`;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.ceil(p * values.length) - 1)
  ] ?? 0;

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
  await db.end();

  const end = new Date();
  const start = new Date(end.getTime() - 30 * 86_400_000);
  const range = { start_date: start.toISOString(), end_date: end.toISOString() };
  const cases: [string, Record<string, string>][] = [
    ['30 days, hour', { ...range, interval: 'hour' }],
    ['30 days, hour, one key', { ...range, interval: 'hour', api_key_id: busyKey }],
    ['30 days, day', { ...range, interval: 'day' }],
  ];
  for (const [name, query] of cases) {
    const url = `${api.url}/api/v1/analytics/usage?${new URLSearchParams(query).toString()}`;
    const timings: number[] = [];
    let requests = 0;
    for (let run = 0; run <= runs; run += 1) {
      const began = performance.now();
      const response = await fetch(url, { headers: { 'x-api-key': key.secret } });
      const body = (await response.json()) as { data?: { data_points?: { requests: number }[] } };
      if (!response.ok) throw new Error(`${name}: ${response.status} ${JSON.stringify(body)}`);
      // The first run warms the caches and is not counted.
      if (run > 0) timings.push(performance.now() - began);
      requests = (body.data?.data_points ?? []).reduce((sum, point) => sum + point.requests, 0);
    }
    process.stdout.write(
      `${name}: median ${median(timings).toFixed(0)} ms, p95 ${percentile(timings, 0.95).toFixed(0)} ms ` +
        `over ${runs} runs (${requests} requests counted; ${load()}; goal < 200 ms)\n`,
    );
  }
} finally {
  await api.stop();
}
