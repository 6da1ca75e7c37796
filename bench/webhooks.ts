import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  BENCH_ADMIN_ENV,
  BENCH_REDIS_URL,
  benchAdmin,
  benchDatabase,
  benchPrefixes,
  median,
  numberArg,
  percentile,
  removeRedisState,
  startApiProcess,
  startWorkerProcess,
} from './harness.js';

/**
 * Webhook delivery latency and throughput against a bare BullMQ job, in one run: the built
 * api and worker (dist/main.js, dist/worker.js) on a database of their own, a local receiver
 * answering 200, and events caused by real changes (POST /api/v1/keys: the key, its audit
 * entry and its `api_key.created` outbox row commit together).
 *
 * Latency: `rate` keys a second for `seconds`, open loop (each request sent on schedule,
 * whatever the previous ones are doing), to one endpoint. Commit time is bracketed: the
 * event's `created_at` (stamped by the api just before the outbox INSERT, so a little BEFORE
 * the commit: latency from it is an upper bound, the figure held against the goal) and the
 * moment the api's 201 reached the bench (AFTER the commit: a lower bound). Receipt is when the
 * receiver writes its 2xx. In the same seconds, at the same rate, a bare no-op job on the same
 * Redis (its own queue, a Worker in this process, concurrency 20 like the webhooks worker):
 * add() called -> `completed`. Prints p50/p99 of both and the ratio p99(webhook)/p99(bare)
 * (goal <= 2).
 *
 * `rounds` such rounds; the median ratio is the figure.
 *
 * Throughput: then `endpoints` endpoints, all subscribed to `api_key.created`; the worker is
 * stopped, `backlog` keys are created (by `clients` callers), and a fresh worker drains the
 * deliveries: deliveries a second from the first receipt to the last, and the worker's CPU
 * time per delivery (steadier than the rate on a shared machine).
 * Usage: npm run bench:webhooks [-- --rate=20 --seconds=20 --rounds=3 --endpoints=10 --clients=8 --backlog=1000]
 */
const rate = numberArg('rate', 20);
const seconds = numberArg('seconds', 20);
const endpointCount = numberArg('endpoints', 10);
const clients = numberArg('clients', 8);
const backlog = numberArg('backlog', 1000);
const rounds = numberArg('rounds', 3);

const load = () => `load ${loadavg()[0]?.toFixed(2)}`;

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** One delivery as the receiver saw it. */
interface Receipt {
  path: string;
  webhookId: string;
  keyId: string;
  createdAt: number;
  receivedAt: number;
}

/** The local receiver: records each delivery (first receipt of each webhook-id per path), answers 200. */
async function startReceiver() {
  const receipts: Receipt[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const receivedAt = Date.now();
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      const path = request.url ?? '/';
      const webhookId = String(request.headers['webhook-id']);
      if (seen.has(`${path} ${webhookId}`)) {
        duplicates += 1;
        return;
      }
      seen.add(`${path} ${webhookId}`);
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        created_at: string;
        data: { id?: string };
      };
      receipts.push({
        path,
        webhookId,
        keyId: String(body.data.id),
        createdAt: Date.parse(body.created_at),
        receivedAt,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    receipts,
    duplicates: () => duplicates,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(what: string, done: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const database = await benchDatabase();
const prefixes = benchPrefixes(`webhooks${Date.now().toString(36)}${process.pid}`);
const env = { ...prefixes, ...BENCH_ADMIN_ENV, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
const receiver = await startReceiver();
const redis = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
// Its own queue name under the bench's prefix: the worker serves none of it, cleanup removes it.
const bareConnection = { connection: redis, prefix: `{${prefixes.QUEUE_PREFIX}}` };
const bareQueue = new Queue('bench-bare', bareConnection);
const bareLatencies: number[] = [];
const workerRedis = redis.duplicate();
const bareWorker = new Worker<{ t0: number }>('bench-bare', () => Promise.resolve(), {
  ...bareConnection,
  connection: workerRedis,
  concurrency: 20,
});
bareWorker.on('completed', (job: Job<{ t0: number }>) => {
  bareLatencies.push(performance.now() - job.data.t0);
});
let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
try {
  [api, worker] = await Promise.all([
    startApiProcess(database.url, env),
    startWorkerProcess(database.url, env),
  ]);
  const admin = await benchAdmin(api);
  await admin.raiseLimits();
  const subscribe = (path: string) =>
    admin.send('POST', '/api/v1/webhooks', {
      url: receiver.url(path),
      events: ['api_key.created'],
    });
  /** Creates a key; resolves with its id and when its 201 arrived. */
  const createKey = async () => {
    const { id } = await admin.createKey();
    return { id, answeredAt: Date.now() };
  };

  await subscribe('/latency');
  // Warm up: connections, prepared paths, the worker's first jobs.
  for (let i = 0; i < 20; i += 1) {
    await Promise.all([createKey(), bareQueue.add('noop', { t0: performance.now() })]);
  }
  await waitFor('warm-up deliveries', () => receiver.receipts.length >= 20);

  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    receiver.receipts.length = 0;
    bareLatencies.length = 0;
    const answered = new Map<string, number>();
    const calls: Promise<void>[] = [];
    const count = rate * seconds;
    const start = performance.now();
    for (let i = 0; i < count; i += 1) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      calls.push(createKey().then(({ id, answeredAt }) => void answered.set(id, answeredAt)));
      calls.push(bareQueue.add('noop', { t0: performance.now() }).then(() => undefined));
    }
    await Promise.all(calls);
    await waitFor('the latency deliveries', () => receiver.receipts.length >= count);
    await waitFor('the bare jobs', () => bareLatencies.length >= count);
    const fromCreated = receiver.receipts.map((r) => r.receivedAt - r.createdAt);
    const fromAnswer = receiver.receipts.map((r) => r.receivedAt - (answered.get(r.keyId) ?? 0));
    const webhookP99 = percentile(fromCreated, 0.99);
    const bareP99 = percentile(bareLatencies, 0.99);
    ratios.push(webhookP99 / bareP99);
    process.stdout.write(
      `round ${round} (${count} events at ${rate}/s, ${load()}): ` +
        `webhook commit->2xx p50 ${fmt(percentile(fromCreated, 0.5))} p99 ${fmt(webhookP99)} (from created_at, upper bound); ` +
        `p50 ${fmt(percentile(fromAnswer, 0.5))} p99 ${fmt(percentile(fromAnswer, 0.99))} (from the api's 201, lower bound) | ` +
        `bare job add->completed p50 ${fmt(percentile(bareLatencies, 0.5))} p99 ${fmt(bareP99)} | ` +
        `ratio p99 ${(webhookP99 / bareP99).toFixed(2)} (goal <= 2)\n`,
    );
  }

  // Throughput: a backlog of `backlog` events fanned out to `endpoints` endpoints, written while
  // no worker runs, then drained by a fresh one (alone on the machine's cores, not sharing them
  // with the api creating the events).
  for (let i = 1; i < endpointCount; i += 1) await subscribe(`/load-${i}`);
  await worker.stop();
  receiver.receipts.length = 0;
  let created = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (created < backlog) {
        created += 1;
        await createKey();
      }
    }),
  );
  const expected = created * endpointCount;
  worker = await startWorkerProcess(database.url, env);
  const cpuBefore = worker.cpuMs();
  await waitFor('the backlog deliveries', () => receiver.receipts.length >= expected, 600_000);
  const cpuUsed = worker.cpuMs() - cpuBefore;
  const times = receiver.receipts.map((r) => r.receivedAt);
  const drainMs = Math.max(...times) - Math.min(...times);
  process.stdout.write(
    `throughput (${created} events x ${endpointCount} endpoints = ${expected} deliveries drained by one worker, ${load()}): ` +
      `${((expected * 1000) / drainMs).toFixed(0)} deliveries/s (first to last receipt, ${(drainMs / 1000).toFixed(1)} s); ` +
      `worker CPU ${((cpuUsed * 1000) / expected).toFixed(0)} µs per delivery; ` +
      `${receiver.duplicates()} duplicate deliveries\n`,
  );
  process.stdout.write(
    `latency: median ratio p99 ${median(ratios).toFixed(2)} over ${rounds} rounds (goal <= 2)\n`,
  );
} finally {
  await Promise.all([api?.stop(), worker?.stop()]);
  await bareWorker.close();
  await bareQueue.close();
  await receiver.close();
  await database.drop();
  await removeRedisState(redis, prefixes);
  redis.disconnect();
  workerRedis.disconnect();
}
