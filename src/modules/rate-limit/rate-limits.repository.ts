import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import type { RequestContext } from '../../common/request-context.js';
import { recordAudit } from '../audit/audit-record.js';
import type { OrganizationLimits } from './organization-limits-store.js';
import { type PolicySet, RateLimitSetting } from './rate-limit-setting.entity.js';

/** One row of rate_limit_settings: `global`, `tier:<name>` or `org:<uuid>` (endpoint overrides). */
export interface SettingRow {
  scope: string;
  organizationId: string | null;
  policies: object;
}

/** The only place rate-limit settings are read and written. */
@Injectable()
export class RateLimitsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The global and tier sets (a handful of rows), for every process's PolicyStore. */
  async platformSets(): Promise<RateLimitSetting[]> {
    return this.dataSource.manager.find(RateLimitSetting, {
      where: { organizationId: IsNull() },
    });
  }

  /**
   * One organization's tier, own set and endpoint overrides, in one query (undefined when the
   * organization does not exist).
   */
  async organizationLimits(organizationId: string): Promise<OrganizationLimits | undefined> {
    const rows = await this.dataSource.query<
      { tier: string; rate_limits: PolicySet | null; endpoints: Record<string, PolicySet> | null }[]
    >(
      `SELECT o.tier, o.rate_limits, s.policies AS endpoints
       FROM organizations o
       LEFT JOIN rate_limit_settings s ON s.scope = 'org:' || o.id::text
       WHERE o.id = $1`,
      [organizationId],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { tier: row.tier, own: row.rate_limits, endpoints: row.endpoints ?? {} };
  }

  /** Upserts the rows and their one audit entry, in one transaction. */
  async save(ctx: RequestContext, organizationId: string, rows: SettingRow[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      for (const row of rows) await manager.upsert(RateLimitSetting, row, ['scope']);
      await recordAudit(manager, ctx, {
        action: 'rate_limits.updated',
        organizationId,
        target: { type: 'rate_limits', id: rows.map((row) => row.scope).join(',') },
        changes: Object.fromEntries(rows.map((row) => [row.scope, row.policies])),
      });
    });
  }
}
