import type { MigrationInterface, QueryRunner } from 'typeorm';

const HISTOGRAM = Array.from({ length: 55 }, (_, i) => `latency_h${String(i).padStart(2, '0')}`);

const MEASURES = `requests, rate_limited, quota_exceeded, response_time_sum_ms, response_time_max_ms, ${HISTOGRAM.join(', ')}`;

/** Each narrow rollup's key: what it keeps of the hour and day rollups' dimensions. */
const NARROW = {
  org: 'organization_id, bucket, status',
  key: 'organization_id, api_key_id, bucket, status',
} as const;

/**
 * Narrow rollups per hour and day (issue 11, bench:usage-read): the hour and day rollups
 * summed over every dimension but the status, one row per organization, bucket and status
 * (usage_rollups_org_*), and the same per key (usage_rollups_key_*, keys' rows only). An
 * unfiltered usage query (or one filtered by status only) reads the first, one filtered by a
 * key (and status) the second: 30 days hourly is then 720 x a few statuses rows instead of one
 * row per key, user, project, route, version and status seen in each hour (800,000 rows for a
 * busy organization, 0.5-1 s to sum 55 histogram columns over). Written by the ingestion
 * statement with the others; filled here from the rollups already there.
 */
export class AddNarrowUsageRollups1764600000000 implements MigrationInterface {
  name = 'AddNarrowUsageRollups1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [shape, key] of Object.entries(NARROW))
      for (const grain of ['hour', 'day']) {
        const table = `usage_rollups_${shape}_${grain}`;
        await queryRunner.query(`
        CREATE TABLE ${table} (
          bucket timestamptz NOT NULL,
          organization_id uuid NOT NULL,
          ${shape === 'key' ? 'api_key_id uuid NOT NULL,' : ''}
          status smallint NOT NULL,
          requests bigint NOT NULL,
          rate_limited bigint NOT NULL,
          quota_exceeded bigint NOT NULL,
          response_time_sum_ms double precision NOT NULL,
          response_time_max_ms real NOT NULL,
          ${HISTOGRAM.map((column) => `${column} bigint NOT NULL`).join(',\n          ')},
          PRIMARY KEY (${key})
        )`);
        await queryRunner.query(`
        INSERT INTO ${table} (${key}, ${MEASURES})
        SELECT ${key}, sum(requests), sum(rate_limited),
          sum(quota_exceeded), sum(response_time_sum_ms), max(response_time_max_ms),
          ${HISTOGRAM.map((column) => `sum(${column})`).join(', ')}
        FROM usage_rollups_${grain} ${shape === 'key' ? 'WHERE api_key_id IS NOT NULL' : ''}
        GROUP BY ${key}`);
      }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const shape of Object.keys(NARROW))
      for (const grain of ['day', 'hour'])
        await queryRunner.query(`DROP TABLE usage_rollups_${shape}_${grain}`);
  }
}
