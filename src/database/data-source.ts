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

/**
 * One definition of the connection, used by the app (through @nestjs/typeorm) and by the
 * TypeORM CLI (through the default export below). `synchronize` is never on: the schema only
 * changes through migrations.
 */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
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
    extra: {
      max: 10,
      // Also how long a request waits for a free client: past it the request is a 503
      // (src/common/exception.filter.ts), so an unreachable database is answered in seconds.
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      application_name: 'gatehouse',
    },
  };
}
