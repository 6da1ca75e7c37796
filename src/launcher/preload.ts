import { basename } from 'node:path';
import { GO, LOADED } from './held-process.js';

/**
 * Run before an entry point (`node --import`) when the launcher starts it held
 * (held-process.ts), ahead of its database: loads the process's modules, most of the
 * seconds of its boot, while the launcher still starts Postgres and applies migrations; tells
 * the launcher so over the IPC channel it opened; and lets the entry point run once the
 * launcher says go. If the launcher goes away first, exits instead.
 */

/**
 * The module of each entry point the launcher holds whose import is most of the loading (the
 * rest is small). Only the api is held: the worker starts once the api answers.
 */
const ROOT_MODULES: Record<string, string> = { 'main.js': '../api.module.js' };

async function preload(): Promise<void> {
  const go = new Promise<void>((resolve) => {
    process.on('message', function onMessage(message) {
      if (message !== GO) return;
      process.off('message', onMessage);
      resolve();
    });
  });
  const exitWithoutLauncher = () => process.exit(1);
  process.once('disconnect', exitWithoutLauncher);
  const root = ROOT_MODULES[basename(process.argv[1] ?? '')];
  if (root !== undefined) await import(root);
  process.send?.(LOADED);
  await go;
  process.off('disconnect', exitWithoutLauncher);
  process.disconnect?.();
}

// Without the launcher's channel there is nothing to wait for: the entry point runs as usual.
if (process.send !== undefined) await preload();
