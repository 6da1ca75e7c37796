import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import {
  BENCH_ADMIN_ENV,
  type MemoryMb,
  benchAdmin,
  benchDatabase,
  benchPrefixes,
  measure,
  median,
  numberArg,
  processCpuMs,
  removeRedisState,
  startApiProcess,
  startWorkerProcess,
  BENCH_REDIS_URL,
} from './harness.js';
import { sentryEnvelopes } from './sentry-envelopes.js';
import { Redis } from 'ioredis';

/**
 * Sentry ingestion end to end, against a raw COPY of the same rows, in one run on a database
 * of its own: the built api and one built worker (every queue), a project made through the
 * API with its ingest limit raised out of the way. Each round posts `envelopes` realistic
 * envelopes (bench/sentry-envelopes.ts: a few KB, exceptions with 10 frames and some
 * messages, forming up to sites + templates issues) over `connections` connections, timed
 * from the first send until every accepted envelope has its `events` row (the worker parsing
 * while the api accepts). Then the rows the pipeline wrote to `envelopes` and `events` are
 * read out (binary COPY TO), the tables emptied, and the same rows COPYed back in (binary COPY
 * FROM, one after the other): the baseline. Reports per round and as medians: envelopes/s end
 * to end, the api's acceptance rate, the worker's drain after the last 200, COPY's rate, the
 * ratio pipeline/COPY (goal >= 0.3) and its ceiling (GET /health/live's req/s on the same api
 * and connections over COPY's rate: what an ingest route doing nothing at all would score),
 * events/s against 300/s (Bugsink's 30/s on 2 vCPUs, x10), CPU per envelope of the api, the
 * worker and Postgres (this database's backends), and the peak RSS (VmHWM) of the api and the
 * worker during the round, with their RSS at idle before.
 * Usage: npm run bench:envelopes [-- --envelopes=15000 --connections=20 --rounds=2
 *   --sites=150 --templates=30]
 */
const envelopeCount = numberArg('envelopes', 15_000);
const connections = numberArg('connections', 20);
const rounds = numberArg('rounds', 2);
const mix = {
  sites: numberArg('sites', 150),
  templates: numberArg('templates', 30),
  messageShare: 0.15,
  seed: 13,
};
const WARM_UP = 500;
/** Bugsink's 30 events/s on 2 vCPUs, times 10 (issue 13). */
const EVENTS_TARGET = 300;
const RATIO_GOAL = 0.3;

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

interface Round {
  accepted: number;
  issues: number;
  apiRate: number;
  endToEndRate: number;
  drainSeconds: number;
  copyRate: number;
  ratio: number;
  /** GET /health/live's req/s on the same api, and it over copyRate: no HTTP ingest beats it. */
  bareRate: number;
  ceiling: number;
  apiCpuUs: number;
  workerCpuUs: number;
  postgresCpuUs: number;
  apiPeak: MemoryMb;
  workerPeak: MemoryMb;
  load: string;
}

const database = await benchDatabase();
const prefixes = benchPrefixes(`envelopes${Date.now().toString(36)}${process.pid}`);
const env = { ...prefixes, ...BENCH_ADMIN_ENV };
const db = new pg.Client({ connectionString: database.url });
await db.connect();
let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;

const eventCount = async () =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]?.n ?? 0;
const empty = () => db.query('TRUNCATE envelopes, envelope_pending, events, event_issues');

/** CPU used so far by this database's Postgres backends (the pools of the api and the worker). */
async function postgresCpu(): Promise<Map<number, number>> {
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return new Map(rows.map(({ pid }) => [pid, processCpuMs(pid)]));
}

function postgresCpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  // A backend opened during the round counts from its start.
  for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
  return used;
}

/** Resolves with the time every one of `target()` events is there (polled every 50 ms). */
async function eventsArrived(target: () => number): Promise<number> {
  const deadline = performance.now() + 600_000;
  while ((await eventCount()) < target()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the events');
    await sleep(50);
  }
  return performance.now();
}

async function copyOut(sql: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const stream = db.query(copyTo(sql));
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

/** The pipeline's envelopes and events rows COPYed back into the emptied tables: seconds. */
async function copyBaseline(): Promise<number> {
  const envelopes = await copyOut('COPY (SELECT * FROM envelopes) TO STDOUT (FORMAT binary)');
  const events = await copyOut('COPY (SELECT * FROM events) TO STDOUT (FORMAT binary)');
  await empty();
  const started = performance.now();
  await pipeline(
    Readable.from([envelopes]),
    db.query(copyFrom('COPY envelopes FROM STDIN (FORMAT binary)')),
  );
  await pipeline(
    Readable.from([events]),
    db.query(copyFrom('COPY events FROM STDIN (FORMAT binary)')),
  );
  return (performance.now() - started) / 1000;
}

const mb = (value: number) => value.toFixed(0);

try {
  [api, worker] = await Promise.all([
    startApiProcess(database.url, env),
    startWorkerProcess(database.url, env),
  ]);
  const admin = await benchAdmin(api);
  const created = await admin.send('POST', '/api/v1/projects', { name: 'bench', platform: 'node' });
  const project = created.data as { id: number; public_key: string };
  await admin.send('PATCH', `/api/v1/projects/${project.id}`, {
    ingest_rate_limit: { window: 'second', limit: 1_000_000 },
  });
  const apiIdle = api.memoryMb();
  const workerIdle = worker.memoryMb();
  const bodies = sentryEnvelopes(envelopeCount, mix).map((body) => Buffer.from(body));
  const bytes = bodies.reduce((sum, body) => sum + body.length, 0);
  const ingestUrl = `${api.url}/api/${project.id}/envelope/`;
  const post = (sent: Buffer[]) =>
    measure(ingestUrl, {
      method: 'POST',
      bodies: sent,
      amount: sent.length,
      connections,
      headers: {
        'x-sentry-auth': `Sentry sentry_key=${project.public_key}, sentry_version=7, sentry_client=sentry.javascript.node/8.45.0`,
        'content-type': 'application/x-sentry-envelope',
      },
    });
  process.stdout.write(
    `${envelopeCount} envelopes of ${(bytes / envelopeCount / 1024).toFixed(1)} KB on average, ${connections} connections, ${rounds} rounds; idle RSS api ${mb(apiIdle.rss)} MB, worker ${mb(workerIdle.rss)} MB (load ${load()})\n`,
  );

  // Warm-up: connections, JIT, the worker's first steps; not measured.
  const warm = await post(bodies.slice(0, WARM_UP));
  await eventsArrived(() => warm.statuses['200'] ?? 0);

  const results: Round[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    await empty();
    const resetPeaks = api.resetPeakMemory() && worker.resetPeakMemory();
    const cpu = { api: api.cpuMs(), worker: worker.cpuMs(), postgres: await postgresCpu() };
    let accepted = Number.POSITIVE_INFINITY;
    const started = performance.now();
    const arrived = eventsArrived(() => accepted);
    const sample = await post(bodies);
    const sentAt = performance.now();
    accepted = sample.statuses['200'] ?? 0;
    if (accepted !== envelopeCount)
      throw new Error(
        `only ${accepted} of ${envelopeCount} envelopes accepted: ${JSON.stringify(sample.statuses)}`,
      );
    const doneAt = await arrived;
    const used = {
      api: api.cpuMs() - cpu.api,
      worker: worker.cpuMs() - cpu.worker,
      postgres: postgresCpuSince(cpu.postgres, await postgresCpu()),
    };
    const apiPeak = api.memoryMb();
    const workerPeak = worker.memoryMb();
    const roundLoad = load();
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM event_issues');
    const copySeconds = await copyBaseline();
    const bare = await measure(`${api.url}/health/live`, { seconds: 2, connections });
    const endToEndRate = (accepted * 1000) / (doneAt - started);
    const copyRate = accepted / copySeconds;
    const result: Round = {
      accepted,
      issues: rows[0]?.n ?? 0,
      apiRate: (accepted * 1000) / (sentAt - started),
      endToEndRate,
      drainSeconds: (doneAt - sentAt) / 1000,
      copyRate,
      ratio: endToEndRate / copyRate,
      bareRate: bare.requestsPerSecond,
      ceiling: bare.requestsPerSecond / copyRate,
      apiCpuUs: (used.api * 1000) / accepted,
      workerCpuUs: (used.worker * 1000) / accepted,
      postgresCpuUs: (used.postgres * 1000) / accepted,
      apiPeak,
      workerPeak,
      load: roundLoad,
    };
    results.push(result);
    process.stdout.write(
      `round ${round}: ${accepted} envelopes -> ${accepted} events in ${result.issues} issues; ` +
        `end to end ${endToEndRate.toFixed(0)}/s (api accepted ${result.apiRate.toFixed(0)}/s, p99 ${sample.p99Ms} ms; worker drained ${result.drainSeconds.toFixed(2)} s after the last 200); ` +
        `COPY ${copyRate.toFixed(0)}/s (${((2 * accepted) / copySeconds).toFixed(0)} rows/s, ${copySeconds.toFixed(2)} s); ratio ${result.ratio.toFixed(3)}; ` +
        `GET /health/live ${result.bareRate.toFixed(0)}/s (ratio ceiling ${result.ceiling.toFixed(3)}); ` +
        `peak RSS api ${mb(apiPeak.peak)} MB, worker ${mb(workerPeak.peak)} MB${resetPeaks ? '' : ' (peaks since start: clear_refs refused)'} (load ${roundLoad})\n`,
    );
  }

  const med = (pick: (round: Round) => number) => median(results.map(pick));
  const row = (label: string, pick: (round: Round) => number, digits = 0) =>
    `${label.padEnd(44)}${[...results.map(pick), med(pick)].map((value) => value.toFixed(digits).padStart(10)).join('')}\n`;
  const ratio = med((r) => r.ratio);
  const events = med((r) => r.endToEndRate);
  process.stdout.write(
    `\n${''.padEnd(44)}${results.map((_, i) => `round ${i + 1}`.padStart(10)).join('')}${'median'.padStart(10)}\n` +
      row('envelopes = events', (r) => r.accepted) +
      row('issues', (r) => r.issues) +
      row('end to end, envelopes/s (= events/s)', (r) => r.endToEndRate) +
      row('api acceptance, envelopes/s', (r) => r.apiRate) +
      row('worker drain after the last 200, s', (r) => r.drainSeconds, 2) +
      row('COPY envelopes + events, envelopes/s', (r) => r.copyRate) +
      row('ratio end to end / COPY', (r) => r.ratio, 3) +
      row('GET /health/live on the same api, req/s', (r) => r.bareRate) +
      row('ceiling: /health/live req/s / COPY', (r) => r.ceiling, 3) +
      row('api CPU per envelope, µs', (r) => r.apiCpuUs) +
      row('worker CPU per envelope, µs', (r) => r.workerCpuUs) +
      row('Postgres backends CPU per envelope, µs', (r) => r.postgresCpuUs) +
      row('peak RSS api, MB', (r) => r.apiPeak.peak) +
      row('peak RSS worker, MB', (r) => r.workerPeak.peak) +
      `${'idle RSS before the run api / worker, MB'.padEnd(44)}${`${mb(apiIdle.rss)} / ${mb(workerIdle.rss)}`.padStart(10)}\n` +
      `${'load average per round'.padEnd(44)}${results.map((r) => r.load).join(' | ')}\n\n` +
      `ratio end to end / COPY: ${ratio.toFixed(3)} (goal >= ${RATIO_GOAL}: ${ratio >= RATIO_GOAL ? 'PASS' : 'FAIL'})\n` +
      `events/s end to end: ${events.toFixed(0)} (target >= ${EVENTS_TARGET}, Bugsink's 30/s x 10: ${events >= EVENTS_TARGET ? 'PASS' : 'FAIL'})\n`,
  );
} finally {
  await Promise.all([api?.stop(), worker?.stop()]);
  await db.end();
  await database.drop();
  const redis = new Redis(BENCH_REDIS_URL);
  await removeRedisState(redis, prefixes);
  redis.disconnect();
}
