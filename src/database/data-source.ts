import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Compiled migrations sit beside the compiled source: `dist/migrations` for the production
 * build (src -> dist), `.build/migrations` for the test build (the repository root -> .build).
 */
function migrationsDir(): string {
  const candidates = [join(here, '..', 'migrations'), join(here, '..', '..', 'migrations')];
  const found = candidates.find(
    (dir) => existsSync(dir) && readdirSync(dir).some((file) => file.endsWith('.js')),
  );
  return found ?? candidates[0];
}

/** How a process connects: DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_STATEMENT_TIMEOUT_MS. */
export interface ConnectionSettings {
  url: string;
  /** The most connections the pool opens (on demand; idle ones close after 30 s). */
  poolSize: number;
  /** Postgres cancels a statement after this long (SQLSTATE 57014); 0 sets none. */
  statementTimeoutMs: number;
}

/**
 * One definition of the connection, used by the api and worker (through @nestjs/typeorm), the
 * admin CLI and, without a statement timeout, the migrations. `synchronize` is never on: the
 * schema only changes through migrations.
 */
export function dataSourceOptions(settings: ConnectionSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: [join(here, '..', 'modules', '**', '*.entity.js')],
    migrations: [join(migrationsDir(), '*.js')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    // The schema is the migrations' alone: TypeORM must not install extensions by itself
    // (uuid-ossp), and UUID defaults use Postgres's built-in gen_random_uuid().
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    migrationsRun: false,
    // pg's Pool and Client options.
    extra: {
      max: settings.poolSize,
      // Also how long a request waits for a free client: past it the request is a 503
      // (src/common/exception.filter.ts), so an unreachable database is answered in seconds.
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      application_name: 'gatehouse',
      // Sent when connecting, so it holds for every statement of the session (SHOW
      // statement_timeout); pg sends nothing for 0, leaving Postgres's own setting.
      statement_timeout: settings.statementTimeoutMs,
    },
  };
}

/**
 * The TypeORM CLI's and the migration runners' connection: they run one statement at a time
 * (one connection, up and down), and without DATABASE_STATEMENT_TIMEOUT_MS, since a migration
 * may rewrite a large table or wait for its lock.
 */
export function migrationsDataSourceOptions(url: string): DataSourceOptions {
  return dataSourceOptions({ url, poolSize: 1, statementTimeoutMs: 0 });
}
