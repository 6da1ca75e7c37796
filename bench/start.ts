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
 * - cold: the state of a fresh clone after `npm ci`: no dist/ (so no compiled output and no
 *   build information) and an empty DATA_DIR (so the embedded Postgres cluster is created:
 *   initdb runs); `--cold=N` runs, median;
 * - warm: a second start: dist/ current and the cluster initialised; `--warm=N` runs, median.
 *
 * Each line also says when (median, from the spawn) compiling ended, the embedded Postgres
 * answered and migrations were applied, from the launcher's own lines: where the time goes.
 * Every run uses a redis-server of its own on a free port (the launcher starts it), and an
 * embedded Postgres in a temporary DATA_DIR, so nothing of a real .data/ is touched. The load
 * average is printed, since on a busy machine the wall times grow; so is the CPU time every
 * process of the run used until ready (npm, the compiler, the launcher, Postgres, the api, the
 * worker), which depends far less on the load. Deletes and rebuilds dist/, so run
 * nothing that uses dist/ meanwhile. Usage: npm run bench:start [-- --cold=3 --warm=3]
 */
const coldRuns = numberArg('cold', 3);
const warmRuns = numberArg('warm', 3);

/** The launcher's lines that end each step, in the order they usually come. */
const MILESTONES = {
  compiled: /^gatehouse: compiled /,
  postgres: /^gatehouse: embedded Postgres on/,
  migrated: /^gatehouse: (applied migrations|database schema is up to date)/,
} as const;
type Milestone = keyof typeof MILESTONES;

interface Run {
  readyMs: number;
  /** When each step ended, from the spawn of npm (absent when the step did not run). */
  milestones: Partial<Record<Milestone, number>>;
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
  const milestones: Run['milestones'] = {};
  for (const [name, pattern] of Object.entries(MILESTONES) as [Milestone, RegExp][]) {
    const ms = started.at(pattern);
    if (ms !== undefined) milestones[name] = ms;
  }
  return { readyMs, milestones, cpuMs, stopMs: Date.now() - stopAt };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function report(name: string, meaning: string, runs: Run[]): void {
  const steps = (Object.keys(MILESTONES) as Milestone[]).flatMap((step) => {
    const times = runs.flatMap((r) => r.milestones[step] ?? []);
    return times.length === runs.length ? [`${step} at ${seconds(median(times))}`] : [];
  });
  const lines = [
    `${name}: ${meaning}`,
    `  ready in ${seconds(median(runs.map((r) => r.readyMs)))} (median of ${runs.length}: ${runs.map((r) => seconds(r.readyMs)).join(', ')})`,
    `  ${steps.length > 0 ? `${steps.join(', ')}; ` : ''}CPU until ready ${seconds(median(runs.map((r) => r.cpuMs)))}; stopped in ${seconds(median(runs.map((r) => r.stopMs)))}; load average now ${loadavg()[0]?.toFixed(1)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (!redisServerInstalled()) throw new Error('bench:start needs redis-server on this machine');
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-start-'));
chmodSync(dataDir, 0o755); // as root, the embedded Postgres runs as the postgres user
const dist = join(REPOSITORY, 'dist');
try {
  process.stdout.write(`npm start, ${process.version}, load average ${loadavg()[0]?.toFixed(1)}\n`);
  const cold: Run[] = [];
  for (let i = 0; i < coldRuns; i += 1) {
    rmSync(dist, { recursive: true, force: true });
    cold.push(await run(join(dataDir, `cold-${i}`)));
  }
  report('cold', 'as after a fresh clone and `npm ci`: no dist/, an empty DATA_DIR', cold);
  // With --cold=0, one unmeasured start first compiles and initialises what the warm ones reuse.
  if (coldRuns === 0) await run(join(dataDir, 'cold-0'));
  const warm: Run[] = [];
  for (let i = 0; i < warmRuns; i += 1) warm.push(await run(join(dataDir, 'cold-0')));
  report('warm', 'a second start: dist/ current, the Postgres cluster initialised', warm);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
