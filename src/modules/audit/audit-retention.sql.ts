/**
 * Audit retention, run by the worker. Inputs: $1 = the cutoff (entries created before it go).
 * Partitions whose whole month ends at or before the cutoff are dropped; rows older than the
 * cutoff in the partition that straddles it (and in the DEFAULT partition) are deleted with
 * `gatehouse.audit_purge` set for this transaction only, the one way past the append-only
 * trigger. The next three months' partitions are created so inserts never need DEFAULT.
 */
export const ENABLE_PURGE = "SELECT set_config('gatehouse.audit_purge', 'on', true)";

export const DELETE_OLDER_THAN = 'DELETE FROM audit_log WHERE created_at < $1';

export const ENSURE_NEXT_MONTHS = `
  SELECT audit_ensure_partition((date_trunc('month', now()) + make_interval(months => m))::date)
  FROM generate_series(0, 3) AS m`;
