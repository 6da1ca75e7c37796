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
        autoLoadEntities: true,
        retryAttempts: 3,
        retryDelay: 1_000,
      }),
    }),
  ],
})
export class DatabaseModule {}
