import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import pg from 'pg';
import type { RedisNode } from '../src/config/env.js';
import {
  LIMITER_TIMEOUT_MS,
  closeRedis,
  connectRedis,
  type RedisClient,
} from '../src/redis/redis-client.js';
import { redisServerInstalled } from '../src/launcher/local-redis.js';
import { startLocalCluster } from '../test/support/redis-cluster.js';
import {
  BENCH_ADMIN_ENV,
  BENCH_REDIS_URL,
  type BenchAdmin,
  type BenchApi,
  type BenchDatabase,
  type BenchProcess,
  type Sample,
  benchAdmin,
  benchDatabase,
  benchPrefixes,
  measure,
  median,
  numberArg,
  removeRedisState,
  startApiProcess,
  startWorkerProcess,
} from './harness.js';

/**
 * Scale-out on a Redis Cluster against one Redis node: the same build under the same load in
 * the same run. Two sides, each of two api processes (dist/main.js) and two worker processes
 * (dist/worker.js) with a database of its own and Redis and queue prefixes of its own:
 *   single   the Redis at BENCH_REDIS_URL (127.0.0.1:6379);
 *   cluster  a local Redis Cluster of 3 masters (no replicas) started for this run, given to
 *            the processes as REDIS_CLUSTER_NODES.
 * 1. Guarded throughput: GET /api/v1/auth/me with an X-API-Key (the bench administrator's
 *    raised limits, so every request is admitted after every window and a monthly quota was
 *    decided), the connections spread over both api processes of a side, in rounds that
 *    alternate which side goes first. Median req/s, p99, api and Redis CPU per request per
 *    side, and the median of the rounds' cluster/single ratios (goal >= 0.90).
 * 2. Exactness: keys limited to --limit a minute, each hit by --burst requests over both api
 *    processes (--burst-connections in flight): a cold key (the burst is its first use, so
 *    every api process loads it meanwhile) and a warm one (one request on each api process
 *    first, counted). Exactly --limit must be admitted in all, on both sides. Also printed:
 *    what the limiter counted in Redis (explain) and how many limiter calls an api gave up on
 *    (RATE_LIMIT_FAILURE_MODE=open admits those).
 * 3. The workers: each burst's refusals reach usage_logs (rows with a limit_type) through the
 *    usage queue, which the workers drain (one row per 429); then what every process logged
 *    at warn or above.
 * Usage: npm run bench:cluster [-- --rounds=6 --seconds=5 --connections=50 --limit=500 --burst=2000 --burst-connections=200]
 */
const rounds = numberArg('rounds', 6);
const seconds = numberArg('seconds', 5);
const connections = numberArg('connections', 50);
const limit = numberArg('limit', 500);
const burst = numberArg('burst', 2_000);
const burstConnections = numberArg('burst-connections', 200);
const GOAL = 0.9;

const out = (line: string) => process.stdout.write(`${line}\n`);
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const cpuMs = (processes: BenchProcess[]) => sum(processes.map((started) => started.cpuMs()));
const secondsSince = (startMs: number) => ((performance.now() - startMs) / 1000).toFixed(1);

interface Side {
  name: 'single' | 'cluster';
  env: Record<string, string>;
  database: BenchDatabase;
  apis: (BenchApi & BenchProcess)[];
  workers: BenchProcess[];
  /** The side's Redis as its processes see it (INFO of every master, the usage queue). */
  redis: RedisClient;
  /** The bench administrator, logged in on the first api. */
  admin: BenchAdmin;
  /** The throughput key's secret. */
  guarded: string;
  samples: (Sample & { apiCpuUs: number; redisCpuUs: number; delayMs: number })[];
  /** CPU its processes used while the other side was measured (ms per second). */
  idle: { apis: number; workers: number }[];
  /** Limiter calls the side's apis gave up on during the rounds. */
  limiterGaveUp: number;
}

/** Whatever was started, undone in reverse order on the way out (a failure included). */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const undo of cleanups.splice(0).reverse()) {
    await undo().catch((error: unknown) => process.stderr.write(`cleanup: ${String(error)}\n`));
  }
}
/** `started` once it is up, with `undo` queued for the way out. */
async function kept<T>(started: Promise<T>, undo: (value: T) => Promise<unknown>): Promise<T> {
  const value = await started;
  cleanups.push(() => undo(value));
  return value;
}

/** Every start's result; a failure is thrown only once the others have settled (and are kept). */
async function allStarted<T extends readonly unknown[]>(
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((start) => start.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((start) => (start as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

/** CPU time (user + system) every master of the side's Redis has used, in ms. */
async function redisCpuMs(redis: RedisClient): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let total = 0;
  for (const node of nodes) {
    const info = await node.info('cpu');
    for (const field of ['used_cpu_user', 'used_cpu_sys']) {
      total += Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0) * 1000;
    }
  }
  return total;
}

/** Lets the bench read each api's GET /metrics (prom-client's process metrics). */
const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/**
 * The longest the api's event loop was held up since the last call, in ms (prom-client's
 * nodejs_eventloop_lag_max_seconds, which every scrape resets).
 */
async function eventLoopDelayMaxMs(api: BenchApi): Promise<number> {
  const response = await fetch(`${api.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const text = await response.text();
  return Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text)?.[1] ?? NaN) * 1000;
}

/** The longest event-loop delay of any of the side's apis during `work`, in ms. */
async function eventLoopDelayDuring<T>(
  side: Side,
  work: () => Promise<T>,
): Promise<{ result: T; delayMs: number }> {
  await Promise.all(side.apis.map(eventLoopDelayMaxMs));
  const result = await work();
  const delays = await Promise.all(side.apis.map(eventLoopDelayMaxMs));
  return { result, delayMs: Math.max(...delays) };
}

/** Where each api's output ends now, for `limiterGaveUp`. */
const outputMarks = (side: Side) => side.apis.map((api) => api.output().length);

/** Limiter calls the side's apis gave up on (timed out or failed) since `marks`. */
function limiterGaveUp(side: Side, marks: number[]): number {
  return sum(
    side.apis.map(
      (api, i) => api.output().slice(marks[i]).split('"limiter unavailable').length - 1,
    ),
  );
}

/** The side's 2 api and 2 worker processes, all started at once as a deployment would. */
async function startSide(
  name: Side['name'],
  clusterNodes: RedisNode[],
  database: BenchDatabase,
): Promise<Side> {
  const prefixes = benchPrefixes(`${Date.now().toString(36)}${process.pid}-${name}`);
  const env = {
    ...BENCH_ADMIN_ENV,
    ...prefixes,
    METRICS_TOKEN,
    REDIS_CLUSTER_NODES: clusterNodes.map((node) => `${node.host}:${node.port}`).join(','),
  };
  const redis = connectRedis(
    { url: BENCH_REDIS_URL, clusterNodes, keyPrefix: '' },
    { name: `Bench ${name}`, commandTimeout: null, maxRetriesPerRequest: null },
  );
  const apis: Side['apis'] = [];
  const workers: BenchProcess[] = [];
  cleanups.push(async () => {
    await Promise.all([...apis, ...workers].map((started) => started.stop()));
    try {
      // The single Redis outlives the bench (the cluster goes whole).
      if (name === 'single') await removeRedisState(redis, prefixes);
    } finally {
      await closeRedis(redis);
    }
  });
  const startedAt = performance.now();
  // Each process is kept as soon as it is up, so that a failure of another still stops it.
  await allStarted([
    ...[1, 2].map(async () => apis.push(await startApiProcess(database.url, env))),
    ...[1, 2].map(async () => workers.push(await startWorkerProcess(database.url, env))),
  ]);
  out(`${name}: 2 api + 2 worker processes ready in ${secondsSince(startedAt)} s`);

  const admin = await benchAdmin(apis[0]);
  await admin.raiseLimits();
  // A monthly quota too, so that every request decides windows and a quota (as on the hot path).
  const guarded = await admin.createKey({
    quota: { period: 'monthly', max_requests: 1_000_000_000_000 },
  });
  return {
    name,
    env,
    database,
    apis,
    workers,
    redis,
    admin,
    guarded: guarded.secret,
    samples: [],
    idle: [],
    limiterGaveUp: 0,
  };
}

const urls = (side: Side) => side.apis.map((api) => `${api.url}/api/v1/auth/me`);

/** One throughput run of `side`, with the CPU `other`'s processes use meanwhile at rest. */
async function round(side: Side, other: Side): Promise<void> {
  const before = {
    apis: cpuMs(side.apis),
    redis: await redisCpuMs(side.redis),
    marks: outputMarks(side),
    otherApis: cpuMs(other.apis),
    otherWorkers: cpuMs(other.workers),
    at: performance.now(),
  };
  const { result: sample, delayMs } = await eventLoopDelayDuring(side, () =>
    measure(urls(side), { seconds, connections, headers: { 'x-api-key': side.guarded } }),
  );
  const elapsedS = (performance.now() - before.at) / 1000;
  other.idle.push({
    apis: (cpuMs(other.apis) - before.otherApis) / elapsedS,
    workers: (cpuMs(other.workers) - before.otherWorkers) / elapsedS,
  });
  const served = Math.max(sample.requests, 1);
  side.samples.push({
    ...sample,
    apiCpuUs: ((cpuMs(side.apis) - before.apis) * 1000) / served,
    redisCpuUs: (((await redisCpuMs(side.redis)) - before.redis) * 1000) / served,
    delayMs,
  });
  side.limiterGaveUp += limiterGaveUp(side, before.marks);
}

/**
 * A key limited to `limit` a minute, hit by the burst over both apis (after one request on
 * each api when `warm`). Prints what was admitted, what the limiter counted, and what reached
 * usage_logs through the workers; true when exactly `limit` were admitted.
 */
async function exactness(side: Side, warm: boolean): Promise<boolean> {
  const temperature = warm ? 'warm' : 'cold';
  const key = await side.admin.createKey({
    name: `bench limited ${temperature}`,
    rate_limits: [{ window: 'minute', limit }],
  });
  const headers = { 'x-api-key': key.secret };
  const marks = outputMarks(side);
  const workerCpu = side.workers.map((worker) => worker.cpuMs());
  const first = warm
    ? await Promise.all(
        side.apis.map((api) =>
          fetch(`${api.url}/api/v1/auth/me`, { headers }).then((response) => response.status),
        ),
      )
    : [];
  const { result: run, delayMs } = await eventLoopDelayDuring(side, () =>
    measure(urls(side), { amount: burst, connections: burstConnections, headers }),
  );
  const gaveUp = limiterGaveUp(side, marks);
  const admitted = (run.statuses['200'] ?? 0) + first.filter((status) => status === 200).length;
  const refused = run.statuses['429'] ?? 0;
  const other = burst + first.length - admitted - refused;
  const explained = await side.admin.send(
    'GET',
    `/api/v1/rate-limits/explain?api_key_id=${key.id}`,
  );
  const policies = (explained.data as { policies: { source: string; remaining: number }[] })
    .policies;
  const remaining = policies.find((policy) => policy.source === 'key')?.remaining;
  out(
    `${side.name.padEnd(7)} ${temperature} key limited to ${limit}/minute, ` +
      `${warm ? `${first.length} requests (one per api) then ` : ''}${burst} requests (${burstConnections} at once over both apis, p99 ${run.p99Ms} ms): ` +
      `${admitted} admitted (200), ${refused} refused (429)${other > 0 ? `, ${other} other (${run.errors} errors)` : ''}; ` +
      `the limiter counted ${remaining === undefined ? '?' : limit - remaining} in Redis; ` +
      `the apis gave up on ${gaveUp} limiter call(s) after ${LIMITER_TIMEOUT_MS} ms (admitted unlimited: RATE_LIMIT_FAILURE_MODE=open), ` +
      `longest event-loop delay ${delayMs.toFixed(0)} ms`,
  );
  await reportWorkers(side, key.id, refused, workerCpu);
  return admitted === limit;
}

/**
 * Waits (up to 30 s) until the key's refused rows in usage_logs number `refused`, then
 * prints them, the usage queue's job counts and each worker's CPU since `workerCpu`.
 */
async function reportWorkers(
  side: Side,
  keyId: string,
  refused: number,
  workerCpu: number[],
): Promise<void> {
  const db = new pg.Client({ connectionString: side.database.url });
  await db.connect();
  const queue = new Queue('usage', {
    connection: side.redis,
    prefix: `{${side.env.QUEUE_PREFIX}}`,
  });
  try {
    const startedAt = performance.now();
    let recorded = { refusals: 0 };
    while (performance.now() - startedAt < 30_000) {
      const result = await db.query<{ refusals: string }>(
        `SELECT count(*)::text AS refusals
         FROM usage_logs WHERE api_key_id = $1 AND limit_type IS NOT NULL`,
        [keyId],
      );
      recorded = { refusals: Number(result.rows[0]?.refusals ?? 0) };
      if (recorded.refusals >= refused) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    out(
      `${' '.repeat(8)}workers: usage_logs has ${recorded.refusals} refusals of this key ` +
        `${recorded.refusals === refused ? '(= its 429s)' : `(its 429s: ${refused})`}, ${secondsSince(startedAt)} s after the burst; ` +
        `usage queue: ${Object.entries(counts)
          .map(([state, count]) => `${count} ${state}`)
          .join(', ')}; ` +
        `worker CPU since the burst began: ${side.workers
          .map((worker, i) => `${(worker.cpuMs() - (workerCpu[i] ?? 0)).toFixed(0)} ms`)
          .join(' and ')}`,
    );
  } finally {
    await queue.close();
    await db.end();
  }
}

/** What the side's processes logged at warn or above (their first few distinct lines). */
function reportLogs(side: Side): void {
  const processes = [
    ...side.apis.map((api, i) => ({ name: `api ${i + 1}`, output: api.output() })),
    ...side.workers.map((worker, i) => ({ name: `worker ${i + 1}`, output: worker.output() })),
  ];
  for (const { name, output } of processes) {
    const lines = output.split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        const level = (JSON.parse(line) as { level?: string }).level;
        return level === 'warn' || level === 'error' || level === 'fatal';
      } catch {
        return true; // not a log record: printed by something else, worth seeing
      }
    });
    // The same message from many requests once, without its timestamp and pid.
    const distinct = [
      ...new Set(lines.map((line) => line.replace(/"pid":\d+,"timestamp":\d+,/, '').slice(0, 300))),
    ];
    out(
      `${side.name.padEnd(7)} ${name} logged ${lines.length} line(s) at warn or above` +
        (distinct.length === 0 ? '' : `, distinct:\n    ${distinct.slice(0, 5).join('\n    ')}`),
    );
  }
}

if (!redisServerInstalled()) {
  out('bench:cluster needs redis-server and redis-cli on this machine');
  process.exit(1);
}

try {
  const startedAt = performance.now();
  const [cluster, singleDb, clusterDb] = await allStarted([
    kept(startLocalCluster({ masters: 3, replicas: 0 }), (started) => started.stop()),
    kept(benchDatabase(), (database) => database.drop()),
    kept(benchDatabase(), (database) => database.drop()),
  ] as const);
  out(
    `local Redis Cluster of 3 masters (no replicas) at ${cluster.env} and a database per side, ` +
      `ready in ${secondsSince(startedAt)} s`,
  );
  const single = await startSide('single', [], singleDb);
  const clustered = await startSide('cluster', cluster.nodes, clusterDb);
  const sides = [single, clustered];

  // 1. Guarded throughput, in interleaved rounds.
  for (const side of sides) {
    await measure(urls(side), { seconds: 2, connections, headers: { 'x-api-key': side.guarded } });
  }
  const ratios: number[] = [];
  for (let n = 1; n <= rounds; n += 1) {
    // Alternate which side goes first, so a drift in the machine's speed favours neither.
    if (n % 2 === 1) {
      await round(single, clustered);
      await round(clustered, single);
    } else {
      await round(clustered, single);
      await round(single, clustered);
    }
    const [a, b] = [single.samples.at(-1), clustered.samples.at(-1)];
    if (a === undefined || b === undefined) throw new Error('a round measured nothing');
    ratios.push(b.requestsPerSecond / a.requestsPerSecond);
    const text = (s: typeof a) =>
      `${s.requestsPerSecond.toFixed(0)} req/s p99 ${s.p99Ms} ms, CPU/request api ${s.apiCpuUs.toFixed(0)} µs ` +
      `Redis ${s.redisCpuUs.toFixed(0)} µs, event-loop delay <= ${s.delayMs.toFixed(0)} ms${s.errors + s.non2xx > 0 ? `, ${s.errors + s.non2xx} failed` : ''}`;
    out(
      `round ${n}: single ${text(a)} | cluster ${text(b)} | ratio ${(ratios.at(-1) ?? 0).toFixed(3)}`,
    );
  }
  const failed = sum(sides.flatMap((side) => side.samples.map((s) => s.errors + s.non2xx)));
  const med = (side: Side, pick: (s: Side['samples'][number]) => number) =>
    median(side.samples.map(pick));
  for (const side of sides) {
    out(
      `${side.name.padEnd(7)} median of ${rounds} x ${seconds} s (${connections} connections over both apis): ` +
        `${med(side, (s) => s.requestsPerSecond).toFixed(0)} req/s, p99 ${med(side, (s) => s.p99Ms)} ms, ` +
        `CPU/request api ${med(side, (s) => s.apiCpuUs).toFixed(0)} µs (both apis) Redis ${med(side, (s) => s.redisCpuUs).toFixed(0)} µs (every master), ` +
        `longest event-loop delay ${med(side, (s) => s.delayMs).toFixed(0)} ms; ` +
        `at rest (while the other side ran) both apis ${median(side.idle.map((i) => i.apis)).toFixed(1)} ms/s CPU, ` +
        `both workers ${median(side.idle.map((i) => i.workers)).toFixed(1)} ms/s; ` +
        `limiter calls given up: ${side.limiterGaveUp}`,
    );
  }
  const ratio = median(ratios);
  out(
    `cluster/single guarded throughput: median of the rounds' ratios ${ratio.toFixed(3)} ` +
      `(ratio of the medians ${(med(clustered, (s) => s.requestsPerSecond) / med(single, (s) => s.requestsPerSecond)).toFixed(3)}), ` +
      `p99 ${med(clustered, (s) => s.p99Ms)} ms vs ${med(single, (s) => s.p99Ms)} ms, ${failed} failed requests ` +
      `(the single Redis may serve other work too: its CPU is all counted)`,
  );
  out(
    `gate cluster/single throughput >= ${GOAL.toFixed(2)}: ${ratio >= GOAL && failed === 0 ? 'PASS' : 'FAIL'}`,
  );

  // 2. and 3. Exactness, and the refusals through the usage queue.
  const exact: boolean[] = [];
  for (const side of sides) {
    for (const warm of [false, true]) exact.push(await exactness(side, warm));
  }
  out(
    `gate admitted == limit (${limit}), cold and warm key, on both sides: ${exact.every(Boolean) ? 'PASS' : 'FAIL'}`,
  );
  for (const side of sides) reportLogs(side);
} finally {
  await cleanUp();
}
