import type { DataSource, EntityManager } from 'typeorm';

/**
 * A transaction for the worker's maintenance (the retention purges), with
 * DATABASE_STATEMENT_TIMEOUT_MS lifted for it alone (SET LOCAL ends with the transaction).
 * Dropping a partition waits for every query on its table, and a purge deletes however many
 * rows have aged out: no client waits for either, and a purge cancelled every hour would
 * never catch up.
 */
export function maintenanceTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await manager.query('SET LOCAL statement_timeout = 0');
    return work(manager);
  });
}
