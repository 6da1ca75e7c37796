import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { RequestContext } from '../../common/request-context.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { ApiVersion } from './api-version.entity.js';
import { VersionErrors } from './versions.errors.js';

export type NewVersion = Omit<ApiVersion, 'createdAt' | 'updatedAt'>;
export type VersionChanges = Partial<Omit<NewVersion, 'version'>>;

function auditable(row: Partial<ApiVersion>): Record<string, unknown> {
  return {
    status: row.status,
    description: row.description,
    released_at: row.releasedAt?.toISOString() ?? null,
    deprecated_at: row.deprecatedAt?.toISOString() ?? null,
    sunset_date: row.sunsetDate?.toISOString() ?? null,
    migration_guide_url: row.migrationGuideUrl,
    changelog: row.changelog,
  };
}

/** Version rows are platform-wide (no tenant scope): only platform administrators write them. */
@Injectable()
export class VersionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every version, for the in-process store (a handful of rows). */
  async all(): Promise<ApiVersion[]> {
    return this.dataSource.manager.find(ApiVersion);
  }

  /** In version order: v2 after v1, v10 after v9. */
  async list(page: PageQuery): Promise<[ApiVersion[], number]> {
    return this.dataSource.manager
      .createQueryBuilder(ApiVersion, 'v')
      .orderBy('length(v.version)', 'ASC')
      .addOrderBy('v.version', 'ASC')
      .offset(page.offset)
      .limit(page.limit)
      .getManyAndCount();
  }

  async find(version: string): Promise<ApiVersion | null> {
    return this.dataSource.manager.findOneBy(ApiVersion, { version });
  }

  /** Inserts the version; a duplicate is a unique violation for the caller to turn into 409. */
  async create(
    ctx: RequestContext,
    organizationId: string,
    input: NewVersion,
  ): Promise<ApiVersion> {
    return this.dataSource.transaction(async (manager) => {
      await manager.insert(ApiVersion, input);
      const created = await manager.findOneByOrFail(ApiVersion, { version: input.version });
      await recordAudit(manager, ctx, {
        action: 'api_version.created',
        organizationId,
        target: { type: 'api_version', id: input.version },
        changes: auditable(created),
      });
      return created;
    });
  }

  async update(
    ctx: RequestContext,
    organizationId: string,
    version: string,
    changes: VersionChanges,
  ): Promise<ApiVersion> {
    return this.dataSource.transaction(async (manager) => {
      const before = await manager.findOne(ApiVersion, {
        where: { version },
        lock: { mode: 'pessimistic_write' },
      });
      if (before === null) throw VersionErrors.notFound();
      if (Object.keys(changes).length > 0) await manager.update(ApiVersion, { version }, changes);
      const after = await manager.findOneByOrFail(ApiVersion, { version });
      await recordAudit(manager, ctx, {
        action: 'api_version.updated',
        organizationId,
        target: { type: 'api_version', id: version },
        changes: diff(auditable(before), auditable(after)),
      });
      return after;
    });
  }

  /** Deletes the version, unless it is the only stable one (409): clients need one to call. */
  async remove(ctx: RequestContext, organizationId: string, version: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      // Every stable row is locked first, so two deletes cannot each leave the other as the last.
      const stable = await manager.find(ApiVersion, {
        where: { status: 'stable' },
        lock: { mode: 'pessimistic_write' },
      });
      const before = await manager.findOne(ApiVersion, {
        where: { version },
        lock: { mode: 'pessimistic_write' },
      });
      if (before === null) throw VersionErrors.notFound();
      if (before.status === 'stable' && stable.length <= 1) throw VersionErrors.lastStable();
      await manager.delete(ApiVersion, { version });
      await recordAudit(manager, ctx, {
        action: 'api_version.deleted',
        organizationId,
        target: { type: 'api_version', id: version },
        changes: auditable(before),
      });
    });
  }
}
