import type { EntityManager } from 'typeorm';

/** The partitions of table $1 with their bounds (`FOR VALUES FROM (...) TO (...)` or `DEFAULT`). */
const LIST_PARTITIONS = `
  SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = $1::regclass`;

/** `FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')` -> its upper end. */
export function partitionUpperBound(bound: string): Date | null {
  const match = /TO \('([^']+)'\)/.exec(bound);
  return match?.[1] === undefined ? null : new Date(match[1]);
}

/**
 * Retention's first step, shared by the audit trail and the usage tables: drops the
 * partitions of `table` whose upper bound is at or before the cutoff (every row in them is
 * older), inside the caller's transaction. The DEFAULT partition has no bound and stays.
 * Returns the dropped partitions' names.
 */
export async function dropPartitionsEndingBy(
  manager: EntityManager,
  table: string,
  cutoff: Date,
): Promise<string[]> {
  const partitions: { name: string; bound: string }[] = await manager.query(LIST_PARTITIONS, [
    table,
  ]);
  const expired = partitions.filter((partition) => {
    const upper = partitionUpperBound(partition.bound);
    return upper !== null && upper.getTime() <= cutoff.getTime();
  });
  for (const partition of expired) {
    await manager.query(`DROP TABLE ${manager.connection.driver.escape(partition.name)}`);
  }
  return expired.map((partition) => partition.name);
}

/**
 * A table partitioned by day on a timestamptz, with `<table>_YYYYMMDD` partitions (made by the
 * SQL function ensure_day_partition) and a `<table>_default` partition.
 */
export interface DayPartitionedTable {
  table: string;
  /** The partition key, a timestamptz column. */
  column: string;
}

export interface DayPartitionsPurge {
  droppedPartitions: string[];
  deletedRows: number;
}

/** How many days ahead the retention job keeps partitions created, so inserts never need DEFAULT. */
const DAYS_AHEAD = 7;

/**
 * Retention of a day-partitioned table, inside the caller's (maintenance) transaction: drops
 * the days that end at or before the cutoff, deletes older rows from the DEFAULT partition,
 * and creates the next seven days' partitions.
 */
export async function purgeDayPartitions(
  manager: EntityManager,
  { table, column }: DayPartitionedTable,
  cutoff: Date,
): Promise<DayPartitionsPurge> {
  const escape = (name: string) => manager.connection.driver.escape(name);
  const droppedPartitions = await dropPartitionsEndingBy(manager, table, cutoff);
  const [, deletedRows] = await manager.query<[unknown, number]>(
    `DELETE FROM ${escape(`${table}_default`)} WHERE ${escape(column)} < $1`,
    [cutoff],
  );
  await manager.query(
    `SELECT ensure_day_partition($1, (now() AT TIME ZONE 'UTC')::date + d)
     FROM generate_series(0, $2::int) AS d`,
    [table, DAYS_AHEAD],
  );
  return { droppedPartitions, deletedRows };
}
