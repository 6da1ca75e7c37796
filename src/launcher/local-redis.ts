import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from '../config/redact.js';
import { stopChild } from './processes.js';

const STOP_GRACE_MS = 5_000;

async function answers(url: string): Promise<boolean> {
  // Loaded only now: the launcher starts the api before anything here is needed.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * The Redis at REDIS_URL when one answers; otherwise a `redis-server` started here, on that
 * URL's port, keeping nothing on disk, when one is installed.
 */
export class LocalRedis {
  private child: ChildProcess | undefined;
  /** Once stopped, nothing is started any more (a stop may come while ensure() waits). */
  private isStopped = false;

  /** Returns a message for the operator when no Redis can be had, else undefined. */
  async ensure(url: string, log: (line: string) => void): Promise<string | undefined> {
    if (await answers(url)) return undefined;
    const parsed = new URL(url);
    const isLocal = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(parsed.hostname);
    if (!isLocal || !redisServerInstalled()) {
      return (
        `no Redis answers at ${redactUrl(url)}` +
        (isLocal ? ' and redis-server is not installed' : '') +
        ': start one (apt-get install redis-server, brew install redis, or docker run -p 6379:6379 redis:7) or point REDIS_URL at one'
      );
    }
    const port = parsed.port === '' ? '6379' : parsed.port;
    if (this.isStopped) return 'stopped before redis-server was started';
    log(`starting redis-server on 127.0.0.1:${port}`);
    // Detached, like the api and worker: a terminal's Ctrl+C reaches only the launcher, which
    // stops Redis after the processes that use it.
    this.child = spawn(
      'redis-server',
      ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore', detached: true },
    );
    for (let attempt = 0; attempt < 50; attempt += 1) {
      if (await answers(url)) return undefined;
      await sleep(100);
    }
    return `redis-server was started on port ${port} but does not answer`;
  }

  /** Stops the redis-server started here, if any, and waits until it has exited. */
  async stop(): Promise<void> {
    this.isStopped = true;
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await stopChild(child, STOP_GRACE_MS);
  }
}
