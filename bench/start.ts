import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/launcher/ports.js';
import { redisServerInstalled } from '../src/launcher/local-redis.js';
import { REPOSITORY, npmStart, treeCpuMs } from '../test/support/npm-start.js';
import { median, numberArg } from './harness.js';

/**
 * How long `npm start` takes, as a user runs it, from the spawn of npm to the launcher's
 * "gatehouse: ready" (the api answers /health/ready), and from SIGINT to npm's exit:
 *
 * - cold, first run: no dist/ (a fresh clone after `npm ci`) and no embedded Postgres cluster
 *   yet (initdb runs);
 * - cold: no dist/, the cluster already initialised;
 * - warm: dist/ current, the cluster initialised (`--warm=N` runs, median).
 *
 * Every run uses a redis-server of its own on a free port (the launcher starts it), and an
 * embedded Postgres in a temporary DATA_DIR, so nothing of a real .data/ is touched. The load
 * average is printed, since on a busy machine the wall times grow; so is the CPU time every
 * process of the run used until ready (npm, the compiler, the launcher, Postgres, the api, the
 * worker), which depends far less on the load. Deletes and rebuilds dist/, so run
 * nothing that uses dist/ meanwhile. Usage: npm run bench:start [-- --warm=5]
 */
const warmRuns = numberArg('warm', 3);

interface Run {
  readyMs: number;
  /** What scripts/start.js reported compiling took (0 when dist/ was current). */
  compileMs: number;
  /** CPU time the whole tree used until ready: what a busy machine cannot stretch. */
  cpuMs: number;
  stopMs: number;
}

async function run(dataDir: string): Promise<Run> {
  const port = await freePort(44000 + Math.floor(Math.random() * 2000));
  const redisPort = await freePort(port + 1);
  const started = npmStart({
    PORT: String(port),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
  const readyMs = await started.ready;
  const cpuMs = treeCpuMs(started.npm.pid ?? 0);
  const stopAt = Date.now();
  process.kill(started.npm.pid ?? 0, 'SIGINT');
  const exit = await started.exited;
  if (exit.code !== 0) throw new Error(`npm start exited ${exit.code}:\n${started.output()}`);
  const compiled = /gatehouse: compiled in ([\d.]+) s/.exec(started.output());
  const compileMs = compiled === null ? 0 : Number(compiled[1]) * 1000;
  return { readyMs, compileMs, cpuMs, stopMs: Date.now() - stopAt };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function report(name: string, runs: Run[]): void {
  const ready = median(runs.map((r) => r.readyMs));
  const cpu = median(runs.map((r) => r.cpuMs));
  const compile = median(runs.map((r) => r.compileMs));
  const compiling = compile > 0 ? ` (compiling ${seconds(compile)})` : '';
  const stop = median(runs.map((r) => r.stopMs));
  const each = runs.length > 1 ? ` (runs: ${runs.map((r) => seconds(r.readyMs)).join(', ')})` : '';
  process.stdout.write(
    `${name.padEnd(18)} ready in ${seconds(ready)}${compiling} using ${seconds(cpu)} of CPU, stopped in ${seconds(stop)}${each}; load average ${loadavg()[0]?.toFixed(1)}\n`,
  );
}

if (!redisServerInstalled()) throw new Error('bench:start needs redis-server on this machine');
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-start-'));
chmodSync(dataDir, 0o755); // as root, the embedded Postgres runs as the postgres user
const dist = join(REPOSITORY, 'dist');
try {
  process.stdout.write(`npm start, ${process.version}, load average ${loadavg()[0]?.toFixed(1)}\n`);
  rmSync(dist, { recursive: true, force: true });
  report('cold, first run', [await run(join(dataDir, 'fresh'))]);
  rmSync(dist, { recursive: true, force: true });
  report('cold', [await run(join(dataDir, 'fresh'))]);
  const warm: Run[] = [];
  for (let i = 0; i < warmRuns; i += 1) warm.push(await run(join(dataDir, 'fresh')));
  report('warm', warm);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
