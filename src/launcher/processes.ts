import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * SIGTERM (each process drains and closes on it), then SIGKILL if it is still running after
 * `graceMs`; resolves once the process has exited, so nothing outlives the launcher.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!isRunning(child)) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = sleep(graceMs, 'timeout' as const);
  if ((await Promise.race([exit, timer])) === 'timeout' && isRunning(child)) {
    child.kill('SIGKILL');
    await exit;
  }
}
