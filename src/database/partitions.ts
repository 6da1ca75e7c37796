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
 * Retention's first step, shared by the audit trail and rate_limit_events: drops the
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
