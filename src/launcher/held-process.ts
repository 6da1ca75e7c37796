import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What preload.ts says once the process's modules are loaded, and what it waits for. */
export const LOADED = 'loaded';
export const GO = 'go';

export interface HeldProcess {
  child: ChildProcess;
  /** Resolves once the process's modules are loaded and it waits for go(). */
  loaded: Promise<void>;
  /** Lets the entry point run (its database and Redis are ready). */
  go(): void;
}

/**
 * Starts `node <distDir>/<script>` held: preload.ts loads its modules at once, and the entry
 * point itself runs only on go(). Detached, like every process the launcher starts: a
 * terminal's Ctrl+C reaches only the launcher, which then stops each child once, gracefully.
 */
export function startHeld(distDir: string, script: string, env: NodeJS.ProcessEnv): HeldProcess {
  const preload = pathToFileURL(join(distDir, 'launcher', 'preload.js')).href;
  const child = spawn(process.execPath, ['--import', preload, join(distDir, script)], {
    env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const loaded = new Promise<void>((resolve) => {
    child.on('message', function onMessage(message) {
      if (message !== LOADED) return;
      child.off('message', onMessage);
      resolve();
    });
  });
  return {
    child,
    loaded,
    go: () => {
      // A child that died meanwhile has no channel; its exit is handled where it was started.
      if (child.connected) child.send(GO);
    },
  };
}
