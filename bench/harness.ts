import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { applyMigrations } from '../src/database/migrations-runner.js';
import { freePort } from '../src/launcher/ports.js';
import type { RedisClient } from '../src/redis/redis-client.js';
import { scanKeys } from '../test/support/test-redis.js';

/**
 * Shared pieces of the benchmarks: a fresh migrated database, the *built* api process
 * (dist/main.js, as deployed), and autocannon runs reduced to req/s and p99. Benchmarks
 * print ratios measured in the same run, never absolute goals.
 */
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Sample {
  requestsPerSecond: number;
  /** Requests answered during the run. */
  requests: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
}

export interface BenchApi {
  url: string;
  databaseUrl: string;
  /** CPU time (user + system) the api process has used so far, in ms (Linux /proc). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** A process's resident memory in MB (Linux /proc): now (VmRSS) and its peak (VmHWM). */
export interface MemoryMb {
  rss: number;
  peak: number;
}

/** CPU time (user + system) a process has used so far, in ms; 0 once it has gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command name: state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** VmRSS and VmHWM of a process, in MB (0 when it has gone). */
export function processMemoryMb(pid: number | undefined): MemoryMb {
  let status = '';
  try {
    if (pid !== undefined) status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // gone: zeros
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * Resets a process's VmHWM to its current RSS (`5` into /proc/<pid>/clear_refs, Linux 4.0+,
 * allowed for our own children), so the next peak is that of what follows. False when the
 * kernel refused: the peak then includes everything since the process started.
 */
export function resetPeakMemory(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The platform administrator every bench api creates at start (ADMIN_EMAIL + ADMIN_PASSWORD). */
const BENCH_ADMIN = { email: 'bench-admin@example.com', password: 'bench password 1234' };
export const BENCH_ADMIN_ENV = {
  ADMIN_EMAIL: BENCH_ADMIN.email,
  ADMIN_PASSWORD: BENCH_ADMIN.password,
};

/** The bench administrator, logged in on one api. */
export interface BenchAdmin {
  /** A call with its access token: the answer's body, or an Error for anything but 2xx. */
  send(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /**
   * Raises the global and free-tier windows out of the way (so a run measures admitted
   * requests, every window still checked; the default 100 a minute would make it measure 429s).
   */
  raiseLimits(): Promise<void>;
  /** Creates a live key with `users:read` plus `extra`. */
  createKey(extra?: Record<string, unknown>): Promise<{ id: string; secret: string }>;
}

export async function benchAdmin(api: BenchApi): Promise<BenchAdmin> {
  const send = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { 'content-type': 'application/json', ...headers },
    });
    if (!response.ok)
      throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const tokens = await send('POST', '/api/v1/auth/login', {
    login: BENCH_ADMIN.email,
    password: BENCH_ADMIN.password,
  });
  const auth = { authorization: `Bearer ${String(tokens.access_token)}` };
  const admin: BenchAdmin = {
    send: (method, path, body) => send(method, path, body, auth),
    raiseLimits: async () => {
      const high = { minute: { limit: 1_000_000_000 }, hour: { limit: 1_000_000_000 } };
      await admin.send('PUT', '/api/v1/rate-limits', { global: high, tiers: { free: high } });
    },
    createKey: async (extra = {}) => {
      const created = await admin.send('POST', '/api/v1/keys', {
        name: 'bench',
        environment: 'live',
        permissions: ['users:read'],
        ...extra,
      });
      const key = created.data as { id: string; key: string };
      return { id: key.id, secret: key.key };
    },
  };
  return admin;
}

/**
 * As the bench administrator: raises the global and free-tier windows and creates a live key
 * with `users:read` plus `extra`. Returns its secret.
 */
export async function benchKey(
  api: BenchApi,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const admin = await benchAdmin(api);
  await admin.raiseLimits();
  return (await admin.createKey(extra)).secret;
}

/** A fresh, migrated database of its own; drop() removes it. */
export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

let databases = 0;

export async function benchDatabase(): Promise<BenchDatabase> {
  databases += 1;
  const database = `gatehouse_bench_${Date.now().toString(36)}${process.pid}_${databases}`;
  await admin(`CREATE DATABASE "${database}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  await applyMigrations(url.toString());
  return {
    url: url.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
  };
}

/** A process of the build (dist/main.js or dist/worker.js), its output kept. */
export interface BenchProcess {
  /** Its process id (undefined if it could not be spawned). */
  pid: number | undefined;
  /** CPU time (user + system) the process has used so far, in ms (Linux /proc). */
  cpuMs(): number;
  /** Its resident memory now and at its peak (see resetPeakMemory). */
  memoryMb(): MemoryMb;
  /** Starts its peak memory again from now; false when the kernel refused. */
  resetPeakMemory(): boolean;
  /** Everything it printed (stdout and stderr; the first 1 MB). */
  output(): string;
  /** SIGTERM, and resolves once it has exited. */
  stop(): Promise<void>;
}

/** REDIS_PREFIX and QUEUE_PREFIX of their own: processes given the same ones share state. */
export function benchPrefixes(name: string): Record<'REDIS_PREFIX' | 'QUEUE_PREFIX', string> {
  return { REDIS_PREFIX: `gh-bench-${name}:`, QUEUE_PREFIX: `gh-bench-${name}` };
}

/** Ports handed out by this bench, which nothing listens on yet while their api starts. */
const portsGiven = new Set<number>();

async function benchPort(): Promise<number> {
  for (let from = 43000; ;) {
    const port = await freePort(from);
    if (!portsGiven.has(port)) {
      portsGiven.add(port);
      return port;
    }
    from = port + 1;
  }
}

const OUTPUT_MAX = 1 << 20;

/** Processes started and not yet exited: killed if the bench exits first (a failure, Ctrl+C). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts dist/<entry>.js with the bench environment (REDIS_URL, a fixed JWT_SECRET shared by
 * every bench process, production mode) and `env` over it; resolves once `ready` says so.
 * Its stderr is also passed through, so a crash shows where the bench is running.
 */
async function startBuiltProcess(
  entry: 'main' | 'worker',
  env: Record<string, string>,
  ready: (process: BenchProcess) => Promise<boolean>,
): Promise<BenchProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // BENCH_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, to profile the process.
      ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      fileURLToPath(new URL(`../../dist/${entry}.js`, import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
        LOG_LEVEL: 'warn',
        REDIS_URL: BENCH_REDIS_URL,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < OUTPUT_MAX) output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', (chunk: Buffer) => {
    keep(chunk);
    process.stderr.write(chunk);
  });
  const started: BenchProcess = {
    pid: child.pid,
    cpuMs: () => processCpuMs(child.pid),
    memoryMb: () => processMemoryMb(child.pid),
    resetPeakMemory: () => resetPeakMemory(child.pid),
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  while (!(await ready(started))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await started.stop();
      throw new Error(`dist/${entry}.js did not start:\n${output}`);
    }
    await sleep(200);
  }
  return started;
}

/** Whether process `pid` holds a TCP socket listening on `port` (Linux /proc). */
function listensOn(pid: number | undefined, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      // sl local_address rem_address st ... inode (field 10); 0A is LISTEN.
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9] !== undefined)
        inodes.add(fields[9]);
    }
  }
  if (pid === undefined || inodes.size === 0) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      const target = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
      return target !== null && inodes.has(target[1] ?? '');
    });
  } catch {
    return false;
  }
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/**
 * Starts dist/main.js on `databaseUrl`; resolves once it listens on its port and
 * /health/ready answers 200.
 */
export async function startApiProcess(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<BenchApi & BenchProcess> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await benchPort();
    const url = `http://127.0.0.1:${port}`;
    try {
      const started = await startBuiltProcess(
        'main',
        { PORT: String(port), DATABASE_URL: databaseUrl, ...env },
        // Its own socket: another bench's api (other sessions share the machine) may answer
        // on the port this one was given, while this one fails to listen.
        (api) =>
          listensOn(api.pid, port)
            ? fetch(`${url}/health/ready`)
                .then((response) => response.ok)
                .catch(() => false)
            : Promise.resolve(false),
      );
      return { ...started, url, databaseUrl };
    } catch (error) {
      // Something else on the machine took the port between our check and the api's listen.
      if (attempt === 3 || !/EADDRINUSE|already in use/.test(String(error))) throw error;
    }
  }
}

/**
 * Starts dist/worker.js on `databaseUrl` (every queue); resolves once it logs `worker ready`
 * (at LOG_LEVEL log: its database and Redis answered).
 */
export function startWorkerProcess(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<BenchProcess> {
  return startBuiltProcess(
    'worker',
    { DATABASE_URL: databaseUrl, LOG_LEVEL: 'log', ...env },
    (worker) => Promise.resolve(worker.output().includes('"worker ready"')),
  );
}

/**
 * Removes every key of these prefixes (REDIS_PREFIX, and QUEUE_PREFIX as BullMQ's hash tag)
 * from a Redis that outlives the bench.
 */
export async function removeRedisState(
  redis: RedisClient,
  prefixes: ReturnType<typeof benchPrefixes>,
): Promise<void> {
  for (const pattern of [`${prefixes.REDIS_PREFIX}*`, `{${prefixes.QUEUE_PREFIX}}*`]) {
    const keys = await scanKeys(redis, pattern);
    // One UNLINK per key: on a cluster the keys live in many slots.
    await Promise.all(keys.map((key) => redis.unlink(key)));
  }
}

/** Starts dist/main.js on a fresh database and its own Redis prefix; stop() cleans up. */
export async function startBuiltApi(extraEnv: Record<string, string> = {}): Promise<BenchApi> {
  const database = await benchDatabase();
  const prefixes = benchPrefixes(`${Date.now().toString(36)}${process.pid}`);
  const api = await startApiProcess(database.url, { ...prefixes, ...extraEnv }).catch(
    async (error: unknown) => {
      await database.drop();
      throw error;
    },
  );
  return {
    ...api,
    stop: async () => {
      await api.stop();
      await database.drop();
      const redis = new Redis(BENCH_REDIS_URL);
      try {
        await removeRedisState(redis, prefixes);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** How many answers of each status code a run got, e.g. { '200': 500, '429': 1500 }. */
export function statusCounts(result: autocannon.Result): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
    counts[code] = count ?? 0;
  return counts;
}

/**
 * A load of `url`; given several, autocannon spreads the connections over them in turn (one
 * latency histogram for all of them).
 */
export async function measure(
  url: string | string[],
  options: {
    seconds?: number;
    amount?: number;
    connections: number;
    headers?: Record<string, string>;
    /** GET unless given (a POST with `body`, sent as is by every request). */
    method?: 'GET' | 'POST';
    body?: string | Buffer;
    /** Instead of `body`: each request sends the next of these, in turn. */
    bodies?: readonly (string | Buffer)[];
  },
): Promise<Sample> {
  const method = options.method ?? 'GET';
  const bodies = options.bodies;
  let sent = 0;
  const result = await autocannon({
    method,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(bodies === undefined
      ? {}
      : {
          requests: [
            {
              method,
              setupRequest: (request: autocannon.Request) => {
                const body = bodies[sent % bodies.length];
                sent += 1;
                return { ...request, body };
              },
            },
          ],
        }),
    // autocannon takes an array of URLs (its README); its types only name a string.
    url: url as string,
    connections: options.connections,
    ...(options.amount !== undefined
      ? { amount: options.amount }
      : { duration: options.seconds ?? 5 }),
    headers: options.headers ?? {},
  });
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statuses: statusCounts(result),
  };
}

/** The `fraction` percentile of `values` (nearest rank; 0 for none). */
export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(Math.ceil(fraction * sorted.length) - 1, 0)] ?? 0;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function numberArg(name: string, fallback: number): number {
  const arg = process.argv.find((value) => value.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.split('=')[1]);
}
