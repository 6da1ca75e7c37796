import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../src/launcher/ports.js';
import { eventually } from './support/wait.js';

const entry = (name: string) => fileURLToPath(new URL(`../src/${name}.js`, import.meta.url));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

const started: ChildProcess[] = [];

function start(name: 'main' | 'worker', env: Record<string, string>): Running {
  const child = spawn(process.execPath, [entry(name)], {
    env: { ...process.env, LOG_LEVEL: 'log', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  await eventually(async () => {
    if (!(await check())) throw new Error('condition not met in time');
  }, timeoutMs);
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('processes', () => {
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('the api serves, logs one JSON line per request and exits 0 on SIGTERM', async () => {
    const port = await freePort(41000 + Math.floor(Math.random() * 2000));
    const api = start('main', { PORT: String(port) });
    const ready = () =>
      fetch(`http://127.0.0.1:${port}/health/ready`, { headers: { 'x-request-id': 'proc-test-1' } })
        .then((response) => response.ok)
        .catch(() => false);
    await until(ready);

    // Credentials go through the api; none of them may reach a log line.
    const secretPassword = `Pw-${Date.now()}-never-logged`;
    const username = `logcheck_${Date.now()}`;
    const post = (path: string, body: object) =>
      fetch(`http://127.0.0.1:${port}/api/v1/auth/${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect(
      (
        await post('register', {
          username,
          email: `${username}@example.com`,
          password: secretPassword,
        })
      ).status,
    ).toBe(201);
    const tokens = (await (
      await post('login', { login: username, password: secretPassword })
    ).json()) as {
      access_token: string;
      refresh_token: string;
    };
    expect(
      (await post('login', { login: username, password: `${secretPassword}-wrong` })).status,
    ).toBe(401);

    api.child.kill('SIGTERM');
    expect(await exitCode(api.child)).toBe(0);
    expect(api.stdout()).toContain('api stopped');
    const output = api.stdout() + api.stderr();
    for (const secret of [secretPassword, tokens.access_token, tokens.refresh_token, '$argon2id']) {
      expect(output).not.toContain(secret);
    }

    const lines = api.stdout().trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as { message: unknown; context?: string });
    const requestLog = records.find(
      (record) =>
        record.context === 'HTTP' &&
        (record.message as { request_id?: string }).request_id === 'proc-test-1',
    );
    expect(requestLog?.message).toMatchObject({
      msg: 'request',
      method: 'GET',
      route: '/health/ready',
      status: 200,
      request_id: 'proc-test-1',
    });
    expect(api.stdout()).not.toContain(process.env.JWT_SECRET ?? 'no-secret-set');
  });

  it('the worker connects, says it is ready and exits 0 on SIGTERM', async () => {
    const worker = start('worker', { WORKER_QUEUES: 'webhooks,usage' });
    await until(() => worker.stdout().includes('worker ready'));
    const ready = worker
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { message: { msg?: string; queues?: string[] } })
      .find((record) => record.message.msg === 'worker ready');
    expect(ready?.message.queues).toEqual(['webhooks', 'usage']);

    worker.child.kill('SIGTERM');
    expect(await exitCode(worker.child)).toBe(0);
    expect(worker.stdout()).toContain('worker stopped');
  });

  it('a worker serving the retention queue runs the scheduled audit purge', async () => {
    const worker = start('worker', { WORKER_QUEUES: 'retention' });
    await until(() => worker.stdout().includes('audit retention'));
    worker.child.kill('SIGTERM');
    expect(await exitCode(worker.child)).toBe(0);
  });

  it('the api with its port taken stops with one line naming the port and PORT', async () => {
    const holder = createServer().listen(0, '0.0.0.0');
    await once(holder, 'listening');
    const { port } = holder.address() as AddressInfo;
    try {
      const api = start('main', { PORT: String(port) });
      expect(await exitCode(api.child)).toBe(1);
      expect(api.stderr().trim().split('\n')).toEqual([
        `gatehouse api: port ${port} is already in use: stop what listens there, or set PORT to another port`,
      ]);
    } finally {
      holder.close();
    }
  });

  it.each([
    ['main', { PORT: 'abc' }, 'gatehouse api: invalid configuration: PORT must be a whole number'],
    [
      'worker',
      { REDIS_URL: 'http://x' },
      'gatehouse worker: invalid configuration: REDIS_URL must use redis or rediss',
    ],
    [
      'main',
      { DATABASE_URL: '' },
      'gatehouse api: invalid configuration: DATABASE_URL is required',
    ],
    [
      'worker',
      { DATABASE_STATEMENT_TIMEOUT_MS: '30s' },
      'gatehouse worker: invalid configuration: DATABASE_STATEMENT_TIMEOUT_MS must be a whole number',
    ],
    [
      'main',
      { DATABASE_POOL_SIZE: '0' },
      'gatehouse api: invalid configuration: DATABASE_POOL_SIZE must be a whole number from 1 to 1000',
    ],
  ] as const)('%s with a bad %j stops with one line naming it', async (name, env, line) => {
    const running = start(name, env);
    expect(await exitCode(running.child)).toBe(1);
    expect(running.stderr().trim().split('\n')).toEqual([expect.stringContaining(line)]);
  });
});
