import { expect } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { eventually } from './wait.js';

/**
 * Until the usage pipeline has drained for these keys: `count` of their requests are in
 * usage_logs and none of them still waits for the rollups (usage_rollup_pending), so the
 * rollups and every analytics answer read from them hold all `count`.
 */
export async function usageDrained(
  dataSource: DataSource,
  keyIds: readonly string[],
  count: number,
): Promise<void> {
  await eventually(async () => {
    const [row] = await dataSource.query<{ logged: number; pending: number }[]>(
      `SELECT (SELECT count(*) FROM usage_logs WHERE api_key_id = ANY($1))::int AS logged,
         (SELECT count(*) FROM usage_rollup_pending WHERE api_key_id = ANY($1))::int AS pending`,
      [keyIds],
    );
    expect(row).toEqual({ logged: count, pending: 0 });
  });
}

/**
 * Until none of the organization's usage rows waits for the rollups: every row written to
 * usage_logs so far (UsageLogsWriter.write has returned) is in the rollups.
 */
export async function rolledUp(dataSource: DataSource, organizationId: string): Promise<void> {
  await eventually(async () => {
    const [row] = await dataSource.query<{ pending: number }[]>(
      'SELECT count(*)::int AS pending FROM usage_rollup_pending WHERE organization_id = $1',
      [organizationId],
    );
    expect(row?.pending).toBe(0);
  });
}
