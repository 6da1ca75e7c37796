import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { applyMigrations } from '../src/database/migrations-runner.js';
import { freePort } from '../src/launcher/ports.js';

/**
 * Shared pieces of the benchmarks: a fresh migrated database, the *built* api process
 * (dist/main.js, as deployed), and autocannon runs reduced to req/s and p99. Benchmarks
 * print ratios measured in the same run, never absolute goals.
 */
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface Sample {
  requestsPerSecond: number;
  /** Requests answered during the run. */
  requests: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
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

function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  // Fields after the command name: state is field 3, utime 14 and stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
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

/**
 * As the bench administrator: raises the global and free-tier windows out of the way (so a
 * run measures admitted requests, every window still checked; the default 100 a minute would
 * make it measure 429s) and creates a live key with `users:read` plus `extra`. Returns its secret.
 */
export async function benchKey(
  api: BenchApi,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const send = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      body: JSON.stringify(body),
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
  const high = { minute: { limit: 1_000_000_000 }, hour: { limit: 1_000_000_000 } };
  await send('PUT', '/api/v1/rate-limits', { global: high, tiers: { free: high } }, auth);
  const created = await send(
    'POST',
    '/api/v1/keys',
    { name: 'bench', environment: 'live', permissions: ['users:read'], ...extra },
    auth,
  );
  return String((created.data as { key: string }).key);
}

/** Starts dist/main.js on a fresh database and its own Redis prefix; stop() cleans up. */
export async function startBuiltApi(extraEnv: Record<string, string> = {}): Promise<BenchApi> {
  const runId = `${Date.now().toString(36)}${process.pid}`;
  const database = `gatehouse_bench_${runId}`;
  await admin(`CREATE DATABASE "${database}"`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${database}`;
  await applyMigrations(databaseUrl.toString());

  const port = await freePort(43000);
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL,
      REDIS_PREFIX: `gh-bench-${runId}:`,
      QUEUE_PREFIX: `gh-bench-${runId}`,
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    const ok = await fetch(`${url}/health/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) break;
    if (attempt > 100 || child.exitCode !== null) throw new Error('the api did not start');
    await sleep(200);
  }
  return {
    url,
    databaseUrl: databaseUrl.toString(),
    cpuMs: () => processCpuMs(child.pid),
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    },
  };
}

export async function measure(
  url: string,
  options: {
    seconds?: number;
    amount?: number;
    connections: number;
    headers?: Record<string, string>;
  },
): Promise<Sample> {
  const result = await autocannon({
    url,
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
  };
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
