import type { MigrationInterface, QueryRunner } from 'typeorm';

const HISTOGRAM = Array.from({ length: 55 }, (_, i) => `latency_h${String(i).padStart(2, '0')}`);
const MEASURES = `requests, rate_limited, quota_exceeded, response_time_sum_ms, response_time_max_ms, ${HISTOGRAM.join(', ')}`;
const SUMS = `sum(requests), sum(rate_limited), sum(quota_exceeded), sum(response_time_sum_ms),
  max(response_time_max_ms), ${HISTOGRAM.map((column) => `sum(${column})`).join(', ')}`;
const DIMENSIONS =
  'organization_id, api_key_id, user_id, project_id, method, route, api_version, status';
const MARK = '(SELECT folded_until FROM usage_rollup_folds)';

/** Each coarse rollup: its key (the conflict target), and the minute rows it sums. */
const COARSE = [
  { table: 'hour', key: `bucket, ${DIMENSIONS}`, keys: '' },
  { table: 'day', key: `bucket, ${DIMENSIONS}`, keys: '' },
  { table: 'org_hour', key: 'organization_id, bucket, status', keys: '' },
  { table: 'org_day', key: 'organization_id, bucket, status', keys: '' },
  {
    table: 'key_hour',
    key: 'organization_id, api_key_id, bucket, status',
    keys: 'AND api_key_id IS NOT NULL',
  },
  {
    table: 'key_day',
    key: 'organization_id, api_key_id, bucket, status',
    keys: 'AND api_key_id IS NOT NULL',
  },
] as const;

const grainOf = (table: string) => (table.endsWith('hour') ? 'hour' : 'day');
/** A key's columns with `bucket` truncated to the table's grain (from minute or hour rows). */
const truncated = (key: string, table: string) =>
  key.replace('bucket', `date_trunc('${grainOf(table)}', bucket, 'UTC')`);
/** The view of a coarse rollup: usage_hours, usage_days, usage_org_hours, ... */
const viewOf = (table: string) => `usage_${table.replace(/(hour|day)$/, '$1s')}`;

/**
 * The hour and day rollups (wide and narrow) are folded from the minute rollups once an hour
 * has ended, instead of being upserted by every rollup step (issue 11, bench:usage-ingest:
 * the six coarse upserts were ~40% of a step; a step now upserts the minute rollups only).
 *
 * usage_rollup_folds.folded_until (a whole hour) is the mark: the coarse tables hold exactly
 * the minute rows before it; the minute rows at and after it are in the minute rollups only.
 * The rollup step (usage-logs.sql.ts) adds a row older than the mark (late: a batch held up in
 * the queue) to the coarse tables itself, and folds the hour after the mark once it has ended
 * (plus a grace for batches on their way), moving the mark an hour on, in the same
 * transaction. The views usage_hours, usage_days, usage_org_hours, usage_org_days,
 * usage_key_hours and usage_key_days are what readers read: a coarse table plus the minute
 * rows from the mark on, as they are. Rows, not sums: readers sum them, filter them by bounds
 * of their grain (a whole hour or day) and truncate their buckets to the interval they answer.
 * Not truncated in the view, a minute row's bucket is compared as it is stored, so the
 * minute rollups' (organization_id, bucket, ...) key finds a range's minutes (truncated, every
 * minute the organization has was read: bench:usage-read's 30 days hourly took a median
 * 285 ms, against 50 ms now). One statement reads the mark and the rows in one snapshot, so a fold
 * is seen whole or not at all.
 *
 * up: the mark starts at the current hour; that hour's rows leave the hour tables (the minute
 * rollups hold them) and today's day rows are summed again from today's earlier hours. Stop
 * every worker of an earlier version first: it would still upsert every row into the coarse
 * tables, and the views would count the rows after the mark twice.
 * down: the minute rows from the mark on are folded into the coarse tables first, so an
 * earlier version's worker finds them complete.
 */
export class FoldUsageRollupsHourly1765400060000 implements MigrationInterface {
  name = 'FoldUsageRollupsHourly1765400060000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE usage_rollup_folds (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        folded_until timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `INSERT INTO usage_rollup_folds (folded_until) VALUES (date_trunc('hour', now(), 'UTC'))`,
    );
    for (const { table, key } of COARSE) {
      if (grainOf(table) === 'hour') {
        await queryRunner.query(`DELETE FROM usage_rollups_${table} WHERE bucket >= ${MARK}`);
      } else {
        const hours = table.replace('day', 'hour');
        await queryRunner.query(
          `DELETE FROM usage_rollups_${table} WHERE bucket >= date_trunc('day', ${MARK}, 'UTC')`,
        );
        await queryRunner.query(`
          INSERT INTO usage_rollups_${table} (${key}, ${MEASURES})
          SELECT ${truncated(key, table)}, ${SUMS} FROM usage_rollups_${hours}
          WHERE bucket >= date_trunc('day', ${MARK}, 'UTC')
          GROUP BY ${key
            .split(',')
            .map((_, i) => i + 1)
            .join(', ')}`);
      }
    }
    // The fold reads an hour of every organization's minute rows: by bucket, not the
    // (organization_id, bucket, ...) key. A BRIN index is a few pages and nearly free to keep.
    await queryRunner.query(
      'CREATE INDEX usage_rollups_minute_bucket_brin ON usage_rollups_minute USING brin (bucket)',
    );
    for (const { table, key, keys } of COARSE)
      await queryRunner.query(`
        CREATE VIEW ${viewOf(table)} AS
        SELECT ${key}, ${MEASURES} FROM usage_rollups_${table}
        UNION ALL
        SELECT ${key}, ${MEASURES} FROM usage_rollups_minute
        WHERE bucket >= ${MARK} ${keys}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const { table } of COARSE) await queryRunner.query(`DROP VIEW ${viewOf(table)}`);
    for (const { table, key, keys } of COARSE)
      await queryRunner.query(`
        INSERT INTO usage_rollups_${table} AS t (${key}, ${MEASURES})
        SELECT ${truncated(key, table)}, ${SUMS} FROM usage_rollups_minute
        WHERE bucket >= ${MARK} ${keys}
        GROUP BY ${key
          .split(',')
          .map((_, i) => i + 1)
          .join(', ')}
        ON CONFLICT (${key}) DO UPDATE SET
          requests = t.requests + excluded.requests,
          rate_limited = t.rate_limited + excluded.rate_limited,
          quota_exceeded = t.quota_exceeded + excluded.quota_exceeded,
          response_time_sum_ms = t.response_time_sum_ms + excluded.response_time_sum_ms,
          response_time_max_ms = greatest(t.response_time_max_ms, excluded.response_time_max_ms),
          ${HISTOGRAM.map((column) => `${column} = t.${column} + excluded.${column}`).join(', ')}`);
    await queryRunner.query('DROP INDEX usage_rollups_minute_bucket_brin');
    await queryRunner.query('DROP TABLE usage_rollup_folds');
  }
}
