import { Redis } from 'ioredis';
import pg from 'pg';
import {
  BENCH_ADMIN_ENV,
  BENCH_REDIS_URL,
  benchKey,
  measure,
  median,
  numberArg,
  startBuiltApi,
} from './harness.js';

/**
 * The API-key hot path against a bare request of the same build: GET /api/v1/auth/me with an
 * X-API-Key (auth from the key cache, the version guard, one EVALSHA for every window, the
 * key's monthly quota and the revocation marker, permissions, the controller) vs GET /health/live, in interleaved pairs, reporting
 * the median ratio of req/s and each p99 (pairs alternate which side runs first). Then Redis commands and Postgres transactions per
 * authenticated request over a fixed number of requests.
 * Usage: npm run bench:hot-path [-- --pairs=15 --seconds=2 --connections=50 --requests=10000]
 */
const pairs = numberArg('pairs', 15);
const seconds = numberArg('seconds', 2);
const connections = numberArg('connections', 50);
const requests = numberArg('requests', 10_000);
// The key has a monthly quota too, so every request decides windows and a quota.
const api = await startBuiltApi(BENCH_ADMIN_ENV);
try {
  const secret = await benchKey(api, {
    quota: { period: 'monthly', max_requests: 1_000_000_000_000 },
  });
  const keyHeaders = { 'x-api-key': secret };

  await measure(`${api.url}/health/live`, { seconds: 2, connections });
  await measure(`${api.url}/api/v1/auth/me`, { seconds: 2, connections, headers: keyHeaders });

  const ratios: number[] = [];
  const bareP99: number[] = [];
  const keyP99: number[] = [];
  const bareCpu: number[] = [];
  const keyCpu: number[] = [];
  /** A run, and the api's CPU time per request during it (µs): steadier than req/s on a busy machine. */
  const timed = async (path: string, headers: Record<string, string> = {}) => {
    const before = api.cpuMs();
    const sample = await measure(`${api.url}${path}`, { seconds, connections, headers });
    return { ...sample, cpuUs: ((api.cpuMs() - before) * 1000) / Math.max(sample.requests, 1) };
  };
  for (let pair = 1; pair <= pairs; pair += 1) {
    // Alternate which side goes first, so a drift in the machine's speed favours neither.
    let bare, hot;
    if (pair % 2 === 1) {
      bare = await timed('/health/live');
      hot = await timed('/api/v1/auth/me', keyHeaders);
    } else {
      hot = await timed('/api/v1/auth/me', keyHeaders);
      bare = await timed('/health/live');
    }
    bareCpu.push(bare.cpuUs);
    keyCpu.push(hot.cpuUs);
    if (hot.errors + hot.non2xx > 0)
      throw new Error(`hot path failed: ${hot.errors} errors, ${hot.non2xx} non-2xx`);
    ratios.push(hot.requestsPerSecond / bare.requestsPerSecond);
    bareP99.push(bare.p99Ms);
    keyP99.push(hot.p99Ms);
    process.stdout.write(
      `pair ${pair}: /health/live ${bare.requestsPerSecond.toFixed(0)} req/s p99 ${bare.p99Ms} ms ${bare.cpuUs.toFixed(0)} µs CPU | ` +
        `/api/v1/auth/me (key) ${hot.requestsPerSecond.toFixed(0)} req/s p99 ${hot.p99Ms} ms ${hot.cpuUs.toFixed(0)} µs CPU | ratio ${(ratios.at(-1) ?? 0).toFixed(3)}\n`,
    );
  }
  process.stdout.write(
    `hot path: median ratio ${median(ratios).toFixed(3)} (goal >= 0.8, the usage recorder on), median p99 ${median(keyP99)} ms vs ${median(bareP99)} ms bare\n` +
      `api CPU per request: median ${median(keyCpu).toFixed(0)} µs with a key vs ${median(bareCpu).toFixed(0)} µs bare (ratio ${(median(bareCpu) / median(keyCpu)).toFixed(3)})\n`,
  );

  // Round trips per authenticated request.
  const redis = new Redis(BENCH_REDIS_URL);
  const db = new pg.Client({ connectionString: api.databaseUrl });
  await db.connect();
  const transactions = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          'SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()',
        )
      ).rows[0]?.n ?? 0,
    );
  const commandStats = async () => {
    const info = await redis.info('commandstats');
    const calls = (name: string) =>
      Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    const total = [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    return { evalsha: calls('evalsha'), total };
  };
  await redis.config('RESETSTAT');
  const txBefore = await transactions();
  const statsBefore = await commandStats();
  const run = await measure(`${api.url}/api/v1/auth/me`, {
    amount: requests,
    connections,
    headers: keyHeaders,
  });
  const statsAfter = await commandStats();
  // Backends report their transaction counts to pg_stat at most once a second.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const txAfter = await transactions();
  // The first pg_stat query is itself a transaction counted in the second reading.
  const ownQueries = 1;
  const served = requests - run.errors - run.non2xx;
  // The bench's own reading may not be counted yet (pg_stat lags): never below zero.
  const transactionsDuringRun = Math.max(txAfter - txBefore - ownQueries, 0);
  process.stdout.write(
    `per authenticated request over ${served} requests: ` +
      `${((statsAfter.evalsha - statsBefore.evalsha) / served).toFixed(3)} EVALSHA round trips ` +
      `(${((statsAfter.total - statsBefore.total - 1) / served).toFixed(1)} commands counted, those inside the script included), ` +
      `${(transactionsDuringRun / served).toFixed(4)} Postgres transactions ` +
      `(${transactionsDuringRun} during the run, background flushes included)\n`,
  );
  redis.disconnect();
  await db.end();
} finally {
  await api.stop();
}
