import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseConfig } from '../config/config.classes.js';
import { dataSourceOptions } from './data-source.js';

/** Postgres for both processes. The pool closes on shutdown (@nestjs/typeorm destroys it). */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [DatabaseConfig],
      useFactory: (db: DatabaseConfig) => ({
        ...dataSourceOptions(db.url),
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
