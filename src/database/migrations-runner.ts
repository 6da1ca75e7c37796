import { DataSource } from 'typeorm';
import { migrationsDataSourceOptions } from './data-source.js';

async function withDataSource<T>(
  url: string,
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource({ ...migrationsDataSourceOptions(url), logging: ['error'] });
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** Applies every pending migration; returns the names applied. */
export async function applyMigrations(url: string): Promise<string[]> {
  return withDataSource(url, async (dataSource) =>
    (await dataSource.runMigrations({ transaction: 'each' })).map((migration) => migration.name),
  );
}

/** Reverts every applied migration, newest first; returns how many were reverted. */
export async function revertAllMigrations(url: string): Promise<number> {
  return withDataSource(url, async (dataSource) => {
    let reverted = 0;
    while (await hasApplied(dataSource)) {
      await dataSource.undoLastMigration({ transaction: 'each' });
      reverted += 1;
    }
    return reverted;
  });
}

async function hasApplied(dataSource: DataSource): Promise<boolean> {
  const rows: { count: string }[] = await dataSource.query(
    `SELECT count(*)::text AS count FROM ${dataSource.options.migrationsTableName ?? 'migrations'}`,
  );
  return Number(rows[0]?.count ?? '0') > 0;
}
