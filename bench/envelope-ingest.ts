import { gzipSync } from 'node:zlib';
import pg from 'pg';
import {
  BENCH_ADMIN_ENV,
  type Sample,
  benchAdmin,
  measure,
  median,
  numberArg,
  startBuiltApi,
} from './harness.js';

/**
 * Sentry envelope ingestion through one built api process: a small event envelope (about
 * 400 bytes, as an SDK sends a captured exception without stack frames) posted to
 * /api/{id}/envelope/ with X-Sentry-Auth, plain and gzip, in rounds; each admitted envelope is
 * committed to `envelopes` + `envelope_pending` before its 200. Printed against GET
 * /health/live measured in the same run (the ratio is what compares across machines), with the
 * rows counted afterwards (every 200 must be a row).
 * Usage: npm run bench:envelope-ingest [-- --rounds=3 --seconds=5 --connections=50]
 */
const rounds = numberArg('rounds', 3);
const seconds = numberArg('seconds', 5);
const connections = numberArg('connections', 50);

const api = await startBuiltApi(BENCH_ADMIN_ENV);
try {
  const admin = await benchAdmin(api);
  const created = await admin.send('POST', '/api/v1/projects', {
    name: 'bench',
    platform: 'node',
  });
  const project = created.data as { id: number; public_key: string };
  await admin.send('PATCH', `/api/v1/projects/${project.id}`, {
    ingest_rate_limit: { window: 'second', limit: 1_000_000 },
  });
  const event = JSON.stringify({
    level: 'error',
    platform: 'node',
    release: 'bench@1.0.0',
    environment: 'bench',
    exception: { values: [{ type: 'TypeError', value: 'cart is undefined' }] },
    tags: { region: 'eu' },
  });
  const envelope = `{"sent_at":"2026-01-01T00:00:00.000Z","sdk":{"name":"sentry.javascript.node","version":"11.12.0"}}\n{"type":"event"}\n${event}\n`;
  const path = `${api.url}/api/${project.id}/envelope/`;
  const headers = {
    'x-sentry-auth': `Sentry sentry_key=${project.public_key}, sentry_version=7`,
    'content-type': 'application/x-sentry-envelope',
  };

  const post = (body: Buffer | string, extra: Record<string, string>): Promise<Sample> =>
    measure(path, {
      method: 'POST',
      body,
      seconds,
      connections,
      headers: { ...headers, ...extra },
    });

  const warmUp = await post(envelope, {}); // warm-up, not in the rates
  const variants: [string, Buffer | string, Record<string, string>][] = [
    ['plain', envelope, {}],
    ['gzip', gzipSync(envelope), { 'content-encoding': 'gzip' }],
  ];
  const results: Record<string, Sample[]> = { baseline: [], plain: [], gzip: [] };
  for (let round = 1; round <= rounds; round += 1) {
    const baseline = await measure(`${api.url}/health/live`, { seconds, connections });
    results.baseline?.push(baseline);
    let line = `round ${round}: /health/live ${baseline.requestsPerSecond.toFixed(0)} req/s`;
    for (const [name, body, extra] of variants) {
      const cpuBefore = api.cpuMs();
      const sample = await post(body, extra);
      // The api process's own CPU per envelope (Postgres and Redis work is theirs).
      const cpuUs = ((api.cpuMs() - cpuBefore) * 1000) / Math.max(sample.requests, 1);
      results[name]?.push(sample);
      line += `; ${name} ${sample.requestsPerSecond.toFixed(0)} envelopes/s (p99 ${sample.p99Ms} ms, api CPU ${cpuUs.toFixed(0)} µs each, non-2xx ${sample.non2xx}, errors ${sample.errors})`;
    }
    process.stdout.write(`${line}\n`);
  }
  const client = new pg.Client({ connectionString: api.databaseUrl });
  await client.connect();
  const counted = await client.query<{ envelopes: string; pending: string }>(
    'SELECT (SELECT count(*) FROM envelopes) AS envelopes, (SELECT count(*) FROM envelope_pending) AS pending',
  );
  await client.end();
  const base = median((results.baseline ?? []).map((s) => s.requestsPerSecond));
  for (const name of ['plain', 'gzip']) {
    const rate = median((results[name] ?? []).map((s) => s.requestsPerSecond));
    process.stdout.write(
      `envelopes ${name}: median ${rate.toFixed(0)} envelopes/s, ${((rate / base) * 100).toFixed(1)} % of /health/live (${base.toFixed(0)} req/s)\n`,
    );
  }
  const answered200 = [warmUp, ...(results.plain ?? []), ...(results.gzip ?? [])].reduce(
    (sum, sample) => sum + (sample.statuses['200'] ?? 0),
    0,
  );
  const rows = Number(counted.rows[0]?.envelopes);
  process.stdout.write(
    `rows: ${rows} envelopes, ${counted.rows[0]?.pending} pending, for ${answered200} answers 200\n`,
  );
  if (rows < answered200) process.exitCode = 1;
} finally {
  await api.stop();
}
