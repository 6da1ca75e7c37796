import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { RequestContext } from '../../common/request-context.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { ApiKey } from '../keys/api-key.entity.js';
import { Quota } from './quota.entity.js';
import { QuotaErrors } from './quotas.errors.js';

export type NewQuota = Pick<
  Quota,
  'apiKeyId' | 'period' | 'maxRequests' | 'periodStart' | 'periodEnd'
>;
export type QuotaChanges = Partial<
  Pick<Quota, 'period' | 'maxRequests' | 'periodStart' | 'periodEnd'>
>;

/** What the audit trail records of a quota (also when a key is created with one). */
export function auditableQuota(quota: Quota): Record<string, unknown> {
  return {
    api_key_id: quota.apiKeyId,
    period: quota.period,
    max_requests: quota.maxRequests,
    period_start: quota.periodStart?.toISOString() ?? null,
    period_end: quota.periodEnd?.toISOString() ?? null,
  };
}

/**
 * A quota's row and its audit entry, as a step of a transaction: the one place quota rows are
 * inserted, by this repository and by the keys repository (a key created with `quota`, in
 * the key's transaction).
 */
export async function insertQuota(
  manager: EntityManager,
  ctx: RequestContext,
  scope: TenantScope,
  input: NewQuota,
): Promise<Quota> {
  const quota = await manager.save(manager.create(Quota, { ...input, ...scope }));
  await recordAudit(manager, ctx, {
    action: 'quota.created',
    organizationId: scope.organizationId,
    target: { type: 'quota', id: quota.id },
    changes: auditableQuota(quota),
  });
  return quota;
}

@Injectable()
export class QuotasRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every quota (of one organization, or of all) for the in-process store. */
  async active(organizationId?: string): Promise<Quota[]> {
    return this.dataSource.manager.find(Quota, {
      where: organizationId === undefined ? {} : { organizationId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  async list(
    scope: TenantScope,
    filter: { apiKeyId?: string },
    page: PageQuery,
  ): Promise<[Quota[], number]> {
    return this.dataSource.manager.findAndCount(Quota, {
      where: { ...scope, ...(filter.apiKeyId === undefined ? {} : { apiKeyId: filter.apiKeyId }) },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
  }

  async findById(scope: TenantScope, id: string): Promise<Quota | null> {
    return this.dataSource.manager.findOneBy(Quota, { ...scope, id });
  }

  /** The organization's key that a quota may be attached to (not deleted). */
  async keyExists(scope: TenantScope, keyId: string): Promise<boolean> {
    const key = await this.dataSource.manager.findOne(ApiKey, {
      select: { id: true, deletedAt: true },
      where: { ...scope, id: keyId },
    });
    return key !== null && key.deletedAt === null;
  }

  async countFor(scope: TenantScope, apiKeyId: string | null): Promise<number> {
    return this.dataSource.manager.countBy(Quota, {
      ...scope,
      apiKeyId: apiKeyId ?? IsNull(),
    });
  }

  async create(scope: TenantScope, ctx: RequestContext, input: NewQuota): Promise<Quota> {
    return this.dataSource.transaction(async (manager) => {
      const quota = await insertQuota(manager, ctx, scope, input);
      return manager.findOneByOrFail(Quota, { id: quota.id });
    });
  }

  async update(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    changes: (before: Quota) => QuotaChanges,
  ): Promise<Quota> {
    return this.dataSource.transaction(async (manager) => {
      const before = await manager.findOne(Quota, {
        where: { ...scope, id },
        lock: { mode: 'pessimistic_write' },
      });
      if (before === null) throw QuotaErrors.notFound();
      const change = changes(before);
      if (Object.keys(change).length > 0) await manager.update(Quota, { id }, change);
      const after = await manager.findOneByOrFail(Quota, { id });
      await recordAudit(manager, ctx, {
        action: 'quota.updated',
        organizationId: scope.organizationId,
        target: { type: 'quota', id },
        changes: diff(auditableQuota(before), auditableQuota(after)),
      });
      return after;
    });
  }

  async remove(scope: TenantScope, ctx: RequestContext, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const quota = await manager.findOne(Quota, {
        where: { ...scope, id },
        lock: { mode: 'pessimistic_write' },
      });
      if (quota === null) throw QuotaErrors.notFound();
      await manager.delete(Quota, { id });
      await recordAudit(manager, ctx, {
        action: 'quota.deleted',
        organizationId: scope.organizationId,
        target: { type: 'quota', id },
        changes: auditableQuota(quota),
      });
    });
  }
}
