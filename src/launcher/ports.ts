import { createServer } from 'node:net';
import type { Env } from '../config/env.js';

/** Where the api listens for HTTP (every interface). */
export const API_HOST = '0.0.0.0';

/** Whether a listener could bind `host:port` now (Node's own listen options, as the api's). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** `preferred` when nothing listens there, else the next free port above it. */
export async function freePort(preferred: number): Promise<number> {
  for (let port = preferred; port < preferred + 100; port += 1) {
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port in ${preferred}-${preferred + 99}`);
}

export interface Listener {
  /** The variable that sets the port, named in the message. */
  variable: string;
  port: number;
  host: string;
}

/**
 * The one line for a port something else already holds, or undefined when every listener
 * can bind (port 0, an ephemeral port, always can). Checked before anything is started, so
 * the operator reads this instead of a stack trace after a slow start.
 */
export async function portInUse(listeners: Listener[]): Promise<string | undefined> {
  for (const { variable, port, host } of listeners) {
    if (port !== 0 && !(await isPortFree(port, host))) return portInUseMessage(variable, port);
  }
  return undefined;
}

/** The listeners an api process opens: PORT, and METRICS_PORT when set. */
export function apiListeners(env: Pick<Env, 'PORT' | 'METRICS_PORT' | 'METRICS_HOST'>): Listener[] {
  const listeners = [{ variable: 'PORT', port: env.PORT, host: API_HOST }];
  if (env.METRICS_PORT !== undefined) {
    listeners.push({ variable: 'METRICS_PORT', port: env.METRICS_PORT, host: env.METRICS_HOST });
  }
  return listeners;
}

export function portInUseMessage(variable: string, port: number): string {
  return `port ${port} is already in use: stop what listens there, or set ${variable} to another port`;
}
