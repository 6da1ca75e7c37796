import type { MigrationInterface, QueryRunner } from 'typeorm';

const HISTOGRAM = Array.from({ length: 55 }, (_, i) => `latency_h${String(i).padStart(2, '0')}`);

const MEASURES = `requests, rate_limited, quota_exceeded, response_time_sum_ms, response_time_max_ms, ${HISTOGRAM.join(', ')}`;

/**
 * Organization rollups per hour and day (issue 11, bench:usage-read): the hour and day
 * rollups summed over every dimension but the status, one row per organization, bucket and
 * status. An unfiltered usage query (or one filtered by status only) reads these: 30 days
 * hourly is then 720 x a few statuses rows instead of one row per key, user, project, route,
 * version and status seen in each hour (over a million rows for a busy organization, ~1 s to
 * sum 55 histogram columns over). Written by the ingestion statement with the others; filled
 * here from the rollups already there.
 */
export class AddOrganizationUsageRollups1764600000000 implements MigrationInterface {
  name = 'AddOrganizationUsageRollups1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const grain of ['hour', 'day']) {
      await queryRunner.query(`
        CREATE TABLE usage_rollups_org_${grain} (
          bucket timestamptz NOT NULL,
          organization_id uuid NOT NULL,
          status smallint NOT NULL,
          requests bigint NOT NULL,
          rate_limited bigint NOT NULL,
          quota_exceeded bigint NOT NULL,
          response_time_sum_ms double precision NOT NULL,
          response_time_max_ms real NOT NULL,
          ${HISTOGRAM.map((column) => `${column} bigint NOT NULL`).join(',\n          ')},
          PRIMARY KEY (organization_id, bucket, status)
        )`);
      await queryRunner.query(`
        INSERT INTO usage_rollups_org_${grain} (organization_id, bucket, status, ${MEASURES})
        SELECT organization_id, bucket, status, sum(requests), sum(rate_limited),
          sum(quota_exceeded), sum(response_time_sum_ms), max(response_time_max_ms),
          ${HISTOGRAM.map((column) => `sum(${column})`).join(', ')}
        FROM usage_rollups_${grain} GROUP BY 1, 2, 3`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE usage_rollups_org_day');
    await queryRunner.query('DROP TABLE usage_rollups_org_hour');
  }
}
