import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** A process of the compiled build (`.build/src/<name>.js`), its output kept. */
export interface BuiltProcess {
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: () => Promise<number | null>;
}

const running = new Set<ChildProcess>();

export function startBuilt(
  name: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
): BuiltProcess {
  const entry = fileURLToPath(new URL(`../../src/${name}.js`, import.meta.url));
  const child = spawn(process.execPath, [entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const ended = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  return {
    child,
    output: () => out + err,
    stdout: () => out,
    stderr: () => err,
    exited: () => ended,
  };
}

/** Runs a short command of the build to its end. */
export async function runBuilt(
  name: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const started = startBuilt(name, args, env);
  const code = await started.exited();
  return { code, stdout: started.stdout(), stderr: started.stderr() };
}

/** Kills whatever a spec started and left running (for afterEach/afterAll). */
export function killBuiltProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
