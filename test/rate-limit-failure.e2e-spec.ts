import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../src/launcher/ports.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

/**
 * The limiter's Redis goes away and comes back: RATE_LIMIT_FAILURE_MODE decides what
 * happens meanwhile (open admits, closed answers 503), requests never hang, and once Redis
 * is back the limits are exact again. A redis-server of its own, on its own port.
 */
describe('rate limiting when Redis fails', () => {
  let port: number;
  let redis: ChildProcess | undefined;
  let open: TestApp;
  let closed: TestApp;
  let owner: Account;
  let secret: string;

  async function startRedis(): Promise<void> {
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await eventually(async () => {
      const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
      const [code] = (await once(probe, 'exit')) as [number];
      expect(code).toBe(0); // redis-server answers
    }, 5_000);
  }

  async function stopRedis(): Promise<void> {
    if (redis === undefined || redis.exitCode !== null) return;
    redis.kill('SIGKILL');
    await once(redis, 'exit');
  }

  const envFor = (mode: 'open' | 'closed') => ({
    REDIS_URL: `redis://127.0.0.1:${port}`,
    RATE_LIMIT_FAILURE_MODE: mode,
    RATE_LIMIT_TIMEOUT_MS: '250', // the default, which the tests' setup raises
  });

  beforeAll(async () => {
    port = await freePort(46000 + Math.floor(Math.random() * 1000));
    await startRedis();
    [open, closed] = await Promise.all([
      startApp({ env: envFor('open') }),
      startApp({ env: envFor('closed') }),
    ]);
    owner = await registerOwner(open);
    const created = await open.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'failover',
        environment: 'live',
        permissions: ['users:read'],
        rate_limits: [{ window: 'minute', limit: 5 }],
      }),
    );
    secret = ((await created.json()) as { data: { key: string } }).data.key;
  });

  afterAll(async () => {
    await Promise.all([open.close(), closed.close()]);
    await stopRedis();
  });

  const me = (app: TestApp) => app.call('/api/v1/auth/me', { headers: { 'x-api-key': secret } });

  it('limits normally while Redis answers', async () => {
    expect((await me(open)).status).toBe(200);
    expect((await me(closed)).status).toBe(200);
  });

  it('open admits and closed answers 503, both quickly, while Redis is down', async () => {
    await stopRedis();
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const admitted = await me(open);
      expect(admitted.status).toBe(200);
      expect(admitted.headers.get('x-ratelimit-limit')).toBeNull();
      const refused = await me(closed);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'SERVICE_UNAVAILABLE',
      );
      expect(performance.now() - started).toBeLessThan(600);
    }
  });

  it('enforces exact limits again once Redis is back', async () => {
    await startRedis(); // empty: the counters start over
    // Reconnected once a request is limited again (each try may count, as a real one would).
    await eventually(async () => {
      expect((await me(open)).headers.get('x-ratelimit-limit')).not.toBeNull();
    }, 5_000);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await me(open)).status);
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(5);
    expect(statuses.at(-1)).toBe(429);
  });
});
