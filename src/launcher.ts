import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  childEnv,
  configuredDatabaseUrl,
  configuredJwtSecret,
  validateEnvOrExit,
} from './config/env.js';
import { redactUrlCredentials } from './config/redact.js';
import { applyMigrations } from './database/migrations-runner.js';
import { LocalPostgres } from './launcher/embedded-postgres.js';
import { LocalRedis } from './launcher/local-redis.js';
import { localSecret } from './launcher/local-secret.js';

/**
 * `npm start`: Gatehouse on one machine with no setup. Uses DATABASE_URL, or an embedded
 * Postgres with its data in .data/; uses the Redis at REDIS_URL, or starts a local
 * redis-server; applies migrations; then runs one api and one worker process until stopped.
 */
const distDir = dirname(fileURLToPath(import.meta.url));
const rootDir = join(distDir, '..');
const children: ChildProcess[] = [];
const postgres = new LocalPostgres(join(rootDir, '.data'));
const redis = new LocalRedis();
let stopping = false;

function log(line: string): void {
  process.stdout.write(`gatehouse: ${line}\n`);
}

/** Errors here may quote DATABASE_URL or REDIS_URL: printed without their passwords. */
function fail(line: string): never {
  process.stderr.write(`gatehouse: ${redactUrlCredentials(line)}\n`);
  process.exit(1);
}

async function waitUntilReady(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return true;
    await sleep(500);
  }
  return false;
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log('stopping');
    const exits = children
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map((child) => new Promise((resolve) => child.once('exit', resolve)));
    children.forEach((child) => child.kill('SIGTERM'));
    await Promise.race([Promise.all(exits), sleep(35_000)]);
    redis.stop();
    await postgres.stop();
  }
  process.exit(code);
}

function run(name: string, script: string, env: NodeJS.ProcessEnv): void {
  // Detached: Ctrl+C reaches only the launcher, which then stops each child once, gracefully.
  const child = spawn(process.execPath, [join(distDir, script)], {
    env,
    stdio: 'inherit',
    detached: true,
  });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    log(`${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
    void shutdown(1);
  });
  children.push(child);
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

async function main(): Promise<void> {
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  let databaseUrl = configuredDatabaseUrl();
  if (databaseUrl === undefined) {
    try {
      databaseUrl = await postgres.start(log);
    } catch (error) {
      fail(
        `could not start the embedded Postgres: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const jwtSecret =
    configuredJwtSecret() ?? (await localSecret(join(rootDir, '.data'), 'jwt-secret'));
  const env = validateEnvOrExit('start', { DATABASE_URL: databaseUrl, JWT_SECRET: jwtSecret });

  // A Redis Cluster is the operator's own; the api and worker wait for it like for any Redis.
  const redisProblem =
    env.REDIS_CLUSTER_NODES.length > 0 ? undefined : await redis.ensure(env.REDIS_URL, log);
  if (redisProblem !== undefined) {
    await postgres.stop();
    fail(redisProblem);
  }

  const applied = await applyMigrations(env.DATABASE_URL);
  log(
    applied.length > 0
      ? `applied migrations: ${applied.join(', ')}`
      : 'database schema is up to date',
  );

  const processEnv = childEnv({
    DATABASE_URL: env.DATABASE_URL,
    REDIS_URL: env.REDIS_URL,
    JWT_SECRET: env.JWT_SECRET,
  });
  run('api', 'main.js', processEnv);
  run('worker', 'worker.js', processEnv);

  if (!(await waitUntilReady(env.PORT))) {
    log('the api did not become ready within 60 s');
    await shutdown(1);
  }
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

await main().catch(async (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gatehouse: ${redactUrlCredentials(message)}\n`);
  await shutdown(1);
});
