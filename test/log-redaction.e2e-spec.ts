import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../src/launcher/ports.js';
import { killBuiltProcesses, startBuilt } from './support/built-process.js';
import { eventually } from './support/wait.js';

const SECRET = `pw-${Date.now()}-never-logged`;

/** This run's database URL with a password added (the test Postgres trusts, so it is ignored). */
function databaseUrlWithPassword(): string {
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.password = SECRET;
  return url.toString();
}

async function closedPort(): Promise<number> {
  return freePort(46000 + Math.floor(Math.random() * 2000));
}

const seen = (output: () => string, text: string) =>
  eventually(() => Promise.resolve(expect(output()).toContain(text)), 20_000);

describe('passwords inside URLs never reach the output', () => {
  afterEach(() => killBuiltProcesses());

  it('the api prints DATABASE_URL and REDIS_URL redacted, and works with them', async () => {
    const port = await freePort(47000 + Math.floor(Math.random() * 2000));
    const api = startBuilt('main', [], {
      PORT: String(port),
      LOG_LEVEL: 'log',
      DATABASE_URL: databaseUrlWithPassword(),
      // Redis 6+ accepts any password for a `default` user without one.
      REDIS_URL: `redis://default:${SECRET}@127.0.0.1:6379`,
    });
    await seen(api.stdout, 'api listening');
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    api.child.kill('SIGTERM');
    await api.exited();
    expect(api.output()).toContain('"database":"postgres://postgres:***@127.0.0.1:');
    expect(api.output()).toContain('"redis":"redis://default:***@127.0.0.1:6379"');
    expect(api.output()).not.toContain(SECRET);
  });

  it('connection errors name the target without its password', async () => {
    const [databasePort, redisPort] = [await closedPort(), await closedPort()];
    const worker = startBuilt('worker', [], {
      LOG_LEVEL: 'log',
      DATABASE_URL: `postgres://gatehouse:${SECRET}@127.0.0.1:${databasePort}/gatehouse`,
      REDIS_URL: `redis://:${SECRET}@127.0.0.1:${redisPort}`,
    });
    await seen(worker.output, 'Unable to connect to the database');
    await seen(worker.output, `Redis connection problem (redis://:***@127.0.0.1:${redisPort})`);
    worker.child.kill('SIGKILL');
    await worker.exited();
    expect(worker.output()).toContain(
      `postgres://gatehouse:***@127.0.0.1:${databasePort}/gatehouse`,
    );
    expect(worker.output()).not.toContain(SECRET);
  });

  it('npm start says which Redis it could not reach, without the password', async () => {
    const redisPort = await closedPort();
    const launcher = startBuilt('launcher', [], {
      DATABASE_URL: databaseUrlWithPassword(),
      // Not a local name, so the launcher does not start a redis-server of its own there.
      REDIS_URL: `redis://:${SECRET}@127.0.0.2:${redisPort}`,
    });
    expect(await launcher.exited()).toBe(1);
    expect(launcher.stderr()).toContain(`no Redis answers at redis://:***@127.0.0.2:${redisPort}`);
    expect(launcher.output()).not.toContain(SECRET);
  });
});
