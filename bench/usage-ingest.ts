import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { USAGE_LOG_COLUMNS as COLUMNS } from '../src/modules/usage/usage-logs.sql.js';
import { type UsageRecord, usageBatchOf } from '../src/modules/usage/usage-record.js';
import {
  BENCH_REDIS_URL,
  benchDatabase,
  benchPrefixes,
  median,
  numberArg,
  removeRedisState,
  startWorkerProcess,
} from './harness.js';

/**
 * Usage ingestion against a raw COPY, in one run on one database of its own: `rows` usage
 * records (batches of 1,000 compact rows, as the api's recorder hands them over) enqueued as `usage.record`
 * jobs, then one built worker (dist/worker.js: UsageProcessor -> UsageLogsWriter, each batch
 * COPYed into usage_logs, whose trigger adds the rows to usage_rollup_pending, then last_used_at; UsageRollups adding the
 * pending rows to the seven rollup tables every second) started and timed until every row is
 * in usage_logs AND in the rollups (the minute rollups sum to `rows`, nothing pending); vs the
 * same rows' CSV through `psql \copy` into usage_logs (its two indexes; its rollup trigger off, so no rollups).
 * usage_logs and the rollups are emptied before each side. Reports the median ratio of rows
 * per second over `rounds` (goal >= 0.3).
 * Usage: npm run bench:usage-ingest [-- --rows=100000 --rounds=3]
 */
const rows = numberArg('rows', 100_000);
const rounds = numberArg('rounds', 3);
const BATCH = 1_000;
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 201, 404, 429];

const load = () => `load ${loadavg()[0]?.toFixed(2)}`;

/** A minute of traffic: 10 organizations, 20 keys each, 30 routes, mostly 200s. */
function records(count: number): UsageRecord[] {
  const organizations = Array.from({ length: 10 }, () => randomUUID());
  const keys = organizations.map(() => Array.from({ length: 20 }, () => randomUUID()));
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const o = i % organizations.length;
    const k = Math.floor(20 * Math.random() ** 2);
    const route = Math.floor(30 * Math.random() ** 3);
    const status = STATUSES[i % STATUSES.length] ?? 200;
    return {
      id: randomUUID(),
      created_at: new Date(now - 60_000 + (60_000 * i) / count).toISOString(),
      organization_id: organizations[o] ?? '',
      api_key_id: keys[o]?.[k] ?? null,
      user_id: null,
      project_id: k % 4 === 3 ? null : (k % 4) + 1,
      method: route % 3 === 0 ? 'POST' : 'GET',
      path: `/api/v1/resource${route}/${i % 1000}`,
      route: `/api/v1/resource${route}/:id`,
      status,
      response_time_ms: Math.exp(Math.log(20) + Math.random() * 2 - 1),
      request_bytes: 200 + (i % 800),
      response_bytes: 300 + (i % 5000),
      ip: `10.0.${k}.${i % 250}`,
      user_agent: 'bench-client/1.0',
      api_version: '2026-01-01',
      error_code: status === 429 ? 'RATE_LIMIT_EXCEEDED' : status === 404 ? 'NOT_FOUND' : null,
      request_id: randomUUID(),
      limit_type: status === 429 ? 'minute' : null,
      limit_value: status === 429 ? 100 : null,
      current_usage: status === 429 ? 100 : null,
    };
  });
}

const database = await benchDatabase();
const prefixes = benchPrefixes(`ingest${Date.now().toString(36)}${process.pid}`);
const redis = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue('usage', { connection: redis, prefix: `{${prefixes.QUEUE_PREFIX}}` });
const db = new pg.Client({ connectionString: database.url });
await db.connect();
const empty = () =>
  db.query(
    'TRUNCATE usage_logs, usage_rollup_pending, usage_rollups_minute, usage_rollups_hour, usage_rollups_day, usage_rollups_org_hour, usage_rollups_org_day, usage_rollups_key_hour, usage_rollups_key_day',
  );
const count = async () =>
  Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM usage_logs')).rows[0]?.n);
/** Rows in the minute rollups, once nothing is pending (else -1). */
const rolledUp = async () =>
  Number(
    (
      await db.query<{ n: string }>(
        `SELECT CASE WHEN EXISTS (SELECT 1 FROM usage_rollup_pending) THEN -1
           ELSE (SELECT coalesce(sum(requests), 0) FROM usage_rollups_minute) END::text AS n`,
      )
    ).rows[0]?.n,
  );

/** Rows per second of the worker over these records, from its start to the last row. */
async function throughWorker(batch: UsageRecord[]): Promise<number> {
  await empty();
  const jobs = [];
  for (let i = 0; i < batch.length; i += BATCH)
    jobs.push({
      name: 'usage.record',
      // As the api's recorder hands them over: compact rows, ids from the batch's prefix.
      data: usageBatchOf(batch.slice(i, i + BATCH), randomUUID().slice(0, 24)),
    });
  await queue.addBulk(jobs);
  const startedAt = performance.now();
  const worker = await startWorkerProcess(database.url, { ...prefixes, LOG_LEVEL: 'log' });
  // The worker's own start (Nest, connections) is not ingestion: timed from `worker ready`.
  const readyAt = performance.now();
  try {
    while ((await count()) < batch.length) await sleep(50);
    const logged = (performance.now() - readyAt) / 1000;
    while ((await rolledUp()) !== batch.length) await sleep(50);
    const seconds = (performance.now() - readyAt) / 1000;
    process.stdout.write(
      `  worker: ${batch.length} rows in usage_logs after ${logged.toFixed(2)} s, in the rollups after ${seconds.toFixed(2)} s (${((readyAt - startedAt) / 1000).toFixed(1)} s to ready)\n`,
    );
    return batch.length / seconds;
  } finally {
    await worker.stop();
  }
}

const csv = (value: string | number | null) => (value === null ? '' : String(value));

/** Rows per second of `psql \copy` of these records into usage_logs (psql's start included). */
async function throughCopy(batch: UsageRecord[]): Promise<number> {
  await empty();
  // A raw COPY: without the trigger that hands the rows on to the rollups.
  await db.query('ALTER TABLE usage_logs DISABLE TRIGGER usage_logs_pend_rollups');
  const text = batch.map((r) => COLUMNS.map((c) => csv(r[c])).join(',')).join('\n') + '\n';
  const startedAt = performance.now();
  const psql = spawn(
    'psql',
    [
      database.url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy usage_logs (${COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv)`,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  psql.stdin.end(text);
  const [code] = (await once(psql, 'exit')) as [number | null];
  const seconds = (performance.now() - startedAt) / 1000;
  await db.query('ALTER TABLE usage_logs ENABLE TRIGGER usage_logs_pend_rollups');
  if (code !== 0 || (await count()) !== batch.length)
    throw new Error(`psql \\copy failed (${code})`);
  process.stdout.write(`  COPY: ${batch.length} rows in ${seconds.toFixed(2)} s\n`);
  return batch.length / seconds;
}

try {
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const batch = records(rows);
    // Alternate which side goes first, so a drift in the machine's speed favours neither.
    const [worker, copy] =
      round % 2 === 1
        ? [await throughWorker(batch), await throughCopy(batch)]
        : await throughCopy(batch).then(async (copied) => [await throughWorker(batch), copied]);
    ratios.push(worker / copy);
    process.stdout.write(
      `round ${round}: worker ${worker.toFixed(0)} rows/s, COPY ${copy.toFixed(0)} rows/s, ratio ${(worker / copy).toFixed(3)} (${load()})\n`,
    );
  }
  process.stdout.write(
    `usage ingestion: median ratio ${median(ratios).toFixed(3)} of COPY's rows/s (goal >= 0.3; ${load()})\n`,
  );
} finally {
  await queue.close();
  await removeRedisState(redis, prefixes);
  redis.disconnect();
  await db.end();
  await database.drop();
}
