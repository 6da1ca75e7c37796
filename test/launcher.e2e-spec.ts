import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { freePort, isPortFree } from '../src/launcher/ports.js';
import { descendantsOf, isAlive, npmStart } from './support/npm-start.js';
import { redisServerInstalled } from '../src/launcher/local-redis.js';
import { TEST_REDIS_URL } from './support/test-env.js';
import { eventually } from './support/wait.js';

const LAUNCHER = fileURLToPath(new URL('../src/launcher.js', import.meta.url));
/** A first `npm start` may compile dist/ and initialise the embedded Postgres cluster. */
const START_TIMEOUT_MS = 240_000;
// Whole process trees on a shared machine: a test that fails once is run again, and its first
// failure is printed (so a flaky stop stays visible instead of passing unseen).
jest.retryTimes(1, { logErrorsBeforeRetry: true });

/** The launcher of the test build, run directly, to its end. */
async function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, [LAUNCHER], {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('npm start', () => {
  // One data directory for the whole file: the cluster is initialised once.
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-launcher-'));
    // As root, the embedded Postgres runs as the postgres user, who must reach its directory.
    chmodSync(dataDir, 0o755);
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  const stops = [
    ['kill -TERM of the npm process', 'SIGTERM', 'npm'],
    ['kill -INT of the npm process', 'SIGINT', 'npm'],
    ['Ctrl+C (SIGINT to the whole foreground process group)', 'SIGINT', 'group'],
  ] as const;

  it.each(stops)(
    '%s stops everything it started and frees the port',
    async (_name, signal, target) => {
      const port = await freePort(43000 + Math.floor(Math.random() * 2000));
      const ownRedis = redisServerInstalled();
      const redisPort = await freePort(port + 1);
      const started = npmStart({
        PORT: String(port),
        // A Redis port nobody answers on, so the launcher starts its own redis-server.
        REDIS_URL: ownRedis ? `redis://127.0.0.1:${redisPort}` : TEST_REDIS_URL,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      });
      try {
        await started.ready;
      } catch (error) {
        process.kill(-(started.npm.pid ?? 0), 'SIGKILL');
        throw error;
      }
      const pid = started.npm.pid ?? 0;

      const processes = descendantsOf(pid);
      const running = (part: string) => processes.some(({ command }) => command.includes(part));
      const expected = ['dist/launcher.js', 'dist/main.js', 'dist/worker.js', 'bin/postgres'];
      if (ownRedis) expected.push(`redis-server 127.0.0.1:${redisPort}`);
      expect(expected.filter((part) => !running(part))).toEqual([]);
      const { port: postgresPort } = JSON.parse(
        readFileSync(join(dataDir, 'postgres.json'), 'utf8'),
      ) as { port: number };

      process.kill(target === 'group' ? -pid : pid, signal);
      const exit = await started.exited;

      expect(exit.code).toBe(0);
      expect(started.output()).toContain(`gatehouse: stopping (${signal})`);
      const left = processes.filter((process) => isAlive(process.pid));
      expect(left).toEqual([]);
      expect(await isPortFree(port, '0.0.0.0')).toBe(true);
      expect(await isPortFree(postgresPort)).toBe(true);
      if (ownRedis) expect(await isPortFree(redisPort)).toBe(true);
    },
    START_TIMEOUT_MS + 60_000,
  );

  it(
    'a stop while it starts (the api still loading, held) stops everything it started',
    async () => {
      const port = await freePort(43000 + Math.floor(Math.random() * 2000));
      const redisPort = await freePort(port + 1);
      const started = npmStart({
        PORT: String(port),
        REDIS_URL: redisServerInstalled() ? `redis://127.0.0.1:${redisPort}` : TEST_REDIS_URL,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      });
      const pid = started.npm.pid ?? 0;
      // The api is started first of all and loads its modules until the database is ready.
      // An npm start that ends first fails the test at once, with what it printed.
      const processes = await Promise.race([
        eventually(() => {
          const found = descendantsOf(pid);
          expect(found.some(({ command }) => command.includes('dist/main.js'))).toBe(true);
          return Promise.resolve(found);
        }, START_TIMEOUT_MS),
        started.exited.then(({ code }) => {
          throw new Error(`npm start ended (${code}) before the api started:\n${started.output()}`);
        }),
      ]);
      expect(started.output()).not.toContain('gatehouse: ready');

      process.kill(pid, 'SIGTERM');
      const exit = await started.exited;

      expect(exit.code).toBe(0);
      expect(started.output()).toContain('gatehouse: stopping (SIGTERM)');
      const left = [...processes, ...descendantsOf(pid)].filter((process) => isAlive(process.pid));
      expect(left).toEqual([]);
      expect(await isPortFree(port, '0.0.0.0')).toBe(true);
      // Chosen before the api was started; the stop may have come while Postgres was starting.
      const { port: postgresPort } = JSON.parse(
        readFileSync(join(dataDir, 'postgres.json'), 'utf8'),
      ) as { port: number };
      expect(await isPortFree(postgresPort)).toBe(true);
    },
    START_TIMEOUT_MS + 60_000,
  );

  describe('refuses before starting anything', () => {
    let holder: Server;
    let takenPort: number;

    beforeAll(async () => {
      takenPort = await freePort(45000 + Math.floor(Math.random() * 2000));
      holder = createServer().listen(takenPort, '0.0.0.0');
      await once(holder, 'listening');
    });

    afterAll(() => {
      holder.close();
    });

    it('a port in use: one line naming the port and PORT', async () => {
      const emptyDir = join(dataDir, 'unused-port');
      const result = await launch({ PORT: String(takenPort), DATA_DIR: emptyDir });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `gatehouse: port ${takenPort} is already in use: stop what listens there, or set PORT to another port`,
      ]);
      expect(result.stdout).not.toContain('Postgres');
      expect(existsSync(emptyDir)).toBe(false);
    });

    it('METRICS_PORT in use is named the same way', async () => {
      const port = await freePort(takenPort + 1);
      const result = await launch({
        PORT: String(port),
        METRICS_PORT: String(takenPort),
        DATA_DIR: join(dataDir, 'unused-metrics'),
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringContaining(`port ${takenPort} is already in use`),
      ]);
      expect(result.stderr).toContain('set METRICS_PORT to another port');
    });

    it('invalid configuration: one line, before the embedded Postgres starts', async () => {
      const emptyDir = join(dataDir, 'unused-config');
      const result = await launch({ PORT: 'abc', DATA_DIR: emptyDir });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringContaining(
          'gatehouse start: invalid configuration: PORT must be a whole number',
        ),
      ]);
      expect(result.stdout).toBe('');
      expect(existsSync(emptyDir)).toBe(false);
    });
  });
});
