import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseConfig } from '../config/config.classes.js';
import { dataSourceOptions } from './data-source.js';

/**
 * Postgres for both processes: a pool of DATABASE_POOL_SIZE connections with
 * DATABASE_STATEMENT_TIMEOUT_MS. The pool closes on shutdown (@nestjs/typeorm destroys it).
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [DatabaseConfig],
      useFactory: (db: DatabaseConfig) => ({
        ...dataSourceOptions(db),
        // The processes never run migrations and know their entities from forFeature(): no
        // file globs to import at start (the migrate CLI and runner use the globs).
        entities: [],
        migrations: [],
        autoLoadEntities: true,
        retryAttempts: 3,
        retryDelay: 1_000,
      }),
    }),
  ],
})
export class DatabaseModule {}
