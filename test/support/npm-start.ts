import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from .build/test/support). */
export const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));

export interface NpmStart {
  /** The `npm start` process, leader of its own process group (as in a terminal). */
  npm: ChildProcess;
  output: () => string;
  /** Milliseconds from the spawn to the first output line that matches `pattern`, if any yet. */
  at: (pattern: RegExp) => number | undefined;
  /** Milliseconds from the spawn of `npm start` to the launcher's "gatehouse: ready". */
  ready: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The process environment a user's shell would give `npm start`: this one without what an
 * enclosing npm run or the test run set for the api (a database, a Redis Cluster), plus `env`.
 */
function userEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([name]) =>
      !name.startsWith('npm_') &&
      !['INIT_CWD', 'DATABASE_URL', 'REDIS_CLUSTER_NODES', 'METRICS_PORT'].includes(name),
  );
  return { ...Object.fromEntries(inherited), ...env };
}

/** Runs `npm start` in the repository as a user would, in a process group of its own. */
export function npmStart(env: Record<string, string>): NpmStart {
  const startedAt = Date.now();
  const npm = spawn('npm', ['start'], {
    cwd: REPOSITORY,
    env: userEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  /** Each complete output line with when it arrived. */
  const lines: { ms: number; text: string }[] = [];
  const exited = once(npm, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const ready = new Promise<number>((resolve, reject) => {
    /** Collects one stream: its text, and its lines as they complete. */
    const collector = () => {
      let partial = '';
      return (chunk: Buffer) => {
        const ms = Date.now() - startedAt;
        output += chunk.toString();
        const split = (partial + chunk.toString()).split('\n');
        partial = split.pop() ?? '';
        lines.push(...split.map((text) => ({ ms, text })));
        if (output.includes('gatehouse: ready')) resolve(ms);
      };
    };
    npm.stdout?.on('data', collector());
    npm.stderr?.on('data', collector());
    void exited.then(({ code }) => reject(new Error(`npm start exited (${code}):\n${output}`)));
  });
  // Awaited by whoever needs it; an early exit is not also an unhandled rejection.
  ready.catch(() => undefined);
  const at = (pattern: RegExp) => lines.find(({ text }) => pattern.test(text))?.ms;
  return { npm, output: () => output, at, ready, exited };
}

export interface RunningProcess {
  pid: number;
  command: string;
}

/** Every process below `pid`, from /proc (Linux), with its command line. */
export function descendantsOf(pid: number): RunningProcess[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name: state, then the parent's pid.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: RunningProcess[] = [];
  const pending = [...(children.get(pid) ?? [])];
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    try {
      const command = readFileSync(`/proc/${next}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: next, command });
    } catch {
      continue;
    }
    pending.push(...(children.get(next) ?? []));
  }
  return found;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time (user + system, in ms) used so far by `pid` and every process below it, including
 * children they have already reaped (a finished compiler, initdb).
 */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const each of [pid, ...descendantsOf(pid).map((process) => process.pid)]) {
    try {
      const stat = readFileSync(`/proc/${each}/stat`, 'utf8');
      // After the command name: utime, stime, cutime and cstime are fields 14 to 17.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0);
    } catch {
      continue; // exited meanwhile
    }
  }
  return (ticks * 1000) / USER_HZ;
}

/** Whether a process with this pid still exists (a zombie counts: nobody has reaped it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
