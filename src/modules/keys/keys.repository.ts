import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { RequestContext } from '../../common/request-context.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { Project } from '../projects/project.entity.js';
import { type NewQuota, insertQuota } from '../quota/quotas.repository.js';
import { addOutboxEvent } from '../webhooks/outbox-writer.js';
import { ApiKey } from './api-key.entity.js';
import { toKeyResponse } from './key-response.js';
import { KeyErrors } from './keys.errors.js';

export type NewKey = Pick<
  ApiKey,
  | 'name'
  | 'description'
  | 'environment'
  | 'projectId'
  | 'prefix'
  | 'secretHash'
  | 'permissions'
  | 'allowedIps'
  | 'expiresAt'
  | 'rateLimits'
>;
export type KeyChanges = Partial<
  Pick<ApiKey, 'name' | 'description' | 'permissions' | 'allowedIps' | 'expiresAt' | 'rateLimits'>
>;

/** What authentication needs of a key, read by the hash of the presented secret. */
export interface KeyForAuth {
  key: ApiKey;
  /** The secret presented is the previous one, valid until key.previousSecretExpiresAt. */
  viaPrevious: boolean;
}

function auditable(key: Partial<ApiKey>): Record<string, unknown> {
  return {
    name: key.name,
    description: key.description,
    environment: key.environment,
    project_id: key.projectId,
    permissions: key.permissions,
    allowed_ips: key.allowedIps,
    expires_at: key.expiresAt?.toISOString() ?? null,
    rate_limits: key.rateLimits,
  };
}

@Injectable()
export class KeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(scope: TenantScope, page: PageQuery): Promise<[ApiKey[], number]> {
    return this.dataSource.manager.findAndCount(ApiKey, {
      where: { ...scope, deletedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
  }

  async findById(scope: TenantScope, id: string): Promise<ApiKey | null> {
    return this.dataSource.manager.findOneBy(ApiKey, { ...scope, id, deletedAt: IsNull() });
  }

  async idsOf(scope: TenantScope): Promise<string[]> {
    const rows = await this.dataSource.manager.find(ApiKey, {
      select: { id: true },
      where: { ...scope },
    });
    return rows.map((row) => row.id);
  }

  async projectExists(scope: TenantScope, projectId: number): Promise<boolean> {
    return this.dataSource.manager.existsBy(Project, { ...scope, id: projectId });
  }

  /** The key, and its quota when one is given (written by the quota module), in one transaction. */
  async create(
    scope: TenantScope,
    ctx: RequestContext,
    input: NewKey,
    quota: Omit<NewQuota, 'apiKeyId'> | null,
  ): Promise<{ key: ApiKey; quotaId: string | null }> {
    return this.dataSource.transaction(async (manager) => {
      const key = await manager.save(manager.create(ApiKey, { ...input, ...scope }));
      await recordAudit(manager, ctx, {
        action: 'api_key.created',
        organizationId: scope.organizationId,
        target: { type: 'api_key', id: key.id },
        changes: auditable(key),
      });
      await addOutboxEvent(manager, {
        organizationId: scope.organizationId,
        type: 'api_key.created',
        data: toKeyResponse(key),
      });
      if (quota === null) return { key, quotaId: null };
      // The quota module's own step writes the row, in this transaction.
      const created = await insertQuota(manager, ctx, scope, { ...quota, apiKeyId: key.id });
      return { key, quotaId: created.id };
    });
  }

  async update(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    changes: KeyChanges,
  ): Promise<ApiKey> {
    return this.dataSource.transaction(async (manager) => {
      const before = await manager.findOne(ApiKey, {
        where: { ...scope, id, deletedAt: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      if (before === null) throw KeyErrors.notFound();
      if (Object.keys(changes).length > 0) await manager.update(ApiKey, { id }, changes);
      const after = await manager.findOneByOrFail(ApiKey, { id });
      await recordAudit(manager, ctx, {
        action: 'api_key.updated',
        organizationId: scope.organizationId,
        target: { type: 'api_key', id },
        changes: diff(auditable(before), auditable(after)),
      });
      return after;
    });
  }

  /** Revokes (idempotently) and, for DELETE, hides the key. Returns it as it now is. */
  async revoke(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    hide: boolean,
  ): Promise<ApiKey> {
    return this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(ApiKey, {
        where: { ...scope, id, deletedAt: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      if (key === null) throw KeyErrors.notFound();
      const now = new Date();
      const changes: Partial<ApiKey> = {
        revokedAt: key.revokedAt ?? now,
        ...(hide ? { deletedAt: now } : {}),
      };
      await manager.update(ApiKey, { id }, changes);
      if (key.revokedAt === null || hide) {
        await recordAudit(manager, ctx, {
          action: hide ? 'api_key.deleted' : 'api_key.revoked',
          organizationId: scope.organizationId,
          target: { type: 'api_key', id },
        });
      }
      const revoked = await manager.findOneByOrFail(ApiKey, { id });
      if (key.revokedAt === null) {
        await addOutboxEvent(manager, {
          organizationId: scope.organizationId,
          type: 'api_key.revoked',
          data: toKeyResponse(revoked),
        });
      }
      return revoked;
    });
  }

  /** A new secret; the old one keeps working until `graceUntil` (or stops now). */
  async rotate(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    secret: { hash: Buffer; prefix: string },
    graceUntil: Date | null,
  ): Promise<ApiKey> {
    return this.dataSource.transaction(async (manager) => {
      const key = await manager
        .createQueryBuilder(ApiKey, 'k')
        .addSelect('k.secretHash')
        .setLock('pessimistic_write')
        .where('k.id = :id AND k.organization_id = :organizationId AND k.deleted_at IS NULL', {
          id,
          ...scope,
        })
        .getOne();
      if (key === null) throw KeyErrors.notFound();
      if (key.revokedAt !== null) throw KeyErrors.rotateRevoked();
      await manager.update(
        ApiKey,
        { id },
        {
          secretHash: secret.hash,
          prefix: secret.prefix,
          previousSecretHash: graceUntil === null ? null : key.secretHash,
          previousSecretExpiresAt: graceUntil,
        },
      );
      await recordAudit(manager, ctx, {
        action: 'api_key.rotated',
        organizationId: scope.organizationId,
        target: { type: 'api_key', id },
        changes: { grace_until: graceUntil?.toISOString() ?? null },
      });
      const rotated = await manager.findOneByOrFail(ApiKey, { id });
      await addOutboxEvent(manager, {
        organizationId: scope.organizationId,
        type: 'api_key.rotated',
        data: { ...toKeyResponse(rotated), grace_until: graceUntil?.toISOString() ?? null },
      });
      return rotated;
    });
  }

  /** Authentication's lookup: the key whose current (or in-grace previous) secret this is. */
  async findForAuth(secretHash: Buffer): Promise<KeyForAuth | null> {
    const row = await this.dataSource.manager
      .createQueryBuilder(ApiKey, 'k')
      .addSelect('k.secret_hash <> :hash', 'via_previous')
      // Deleted keys are revoked keys: found, so they answer API_KEY_REVOKED.
      .where(
        '(k.secret_hash = :hash OR (k.previous_secret_hash = :hash AND k.previous_secret_expires_at > now()))',
        { hash: secretHash },
      )
      .getRawAndEntities<{ via_previous: boolean }>();
    const key = row.entities[0];
    const raw = row.raw[0];
    return key === undefined || raw === undefined ? null : { key, viaPrevious: raw.via_previous };
  }
}
