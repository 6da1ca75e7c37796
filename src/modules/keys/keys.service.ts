import { Injectable } from '@nestjs/common';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import { type Permission, allows } from '../../common/permissions.js';
import { rejectNulls } from '../../common/validation.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { CommonErrors } from '../../common/app-error.js';
import { Limiter } from '../rate-limit/limiter.js';
import { keyLimitsAboveCeiling } from '../rate-limit/policies.js';
import { RequestLimiter } from '../rate-limit/request-limiter.js';
import { QuotasService } from '../quota/quotas.service.js';
import type { KeyUsageQuery, UsageResponse } from '../analytics/analytics.dto.js';
import { AnalyticsService } from '../analytics/analytics.service.js';
import type { KeyRateLimit } from './api-key.entity.js';
import { KeyCache, hashKeyOf } from './key-cache.js';
import { toKeyResponse } from './key-response.js';
import { KnownKeyHashes } from './known-key-hashes.js';
import { displayPrefix, generateSecret, hashSecret } from './key-secret.js';
import type {
  CreateKeyDto,
  KeyResponse,
  KeyWithSecretResponse,
  RateLimitDto,
  ReplaceKeyDto,
  RotateKeyDto,
  UpdateKeyDto,
} from './keys.dto.js';
import { KeyErrors } from './keys.errors.js';
import { type KeyChanges, KeysRepository } from './keys.repository.js';

function rateLimits(dtos: RateLimitDto[] | undefined): KeyRateLimit[] {
  return (dtos ?? []).map((dto) => ({
    window: dto.window,
    limit: dto.limit,
    algorithm: dto.algorithm ?? 'sliding_window',
  }));
}

function expiry(value: string | null | undefined): Date | null {
  if (value === undefined || value === null) return null;
  const date = new Date(value);
  if (date.getTime() <= Date.now()) throw KeyErrors.expiresInPast();
  return date;
}

@Injectable()
export class KeysService {
  constructor(
    private readonly keys: KeysRepository,
    private readonly cache: KeyCache,
    private readonly quotas: QuotasService,
    private readonly knownHashes: KnownKeyHashes,
    private readonly limits: RequestLimiter,
    private readonly limiter: Limiter,
    private readonly analytics: AnalyticsService,
  ) {}

  async list(ctx: AuthenticatedContext, query: PageQuery): Promise<Page<KeyResponse>> {
    const [keys, total] = await this.keys.list(tenantOf(ctx), query);
    return page(keys.map(toKeyResponse), total, query);
  }

  async get(ctx: AuthenticatedContext, id: string): Promise<KeyResponse> {
    const key = await this.keys.findById(tenantOf(ctx), id);
    if (key === null) throw KeyErrors.notFound();
    return toKeyResponse(key);
  }

  /** The key's usage (GET /analytics/usage for this key); another organization's key is a 404. */
  async usage(ctx: AuthenticatedContext, id: string, query: KeyUsageQuery): Promise<UsageResponse> {
    await this.get(ctx, id);
    return this.analytics.usage(ctx, { ...query, api_key_id: id });
  }

  async create(ctx: AuthenticatedContext, dto: CreateKeyDto): Promise<KeyWithSecretResponse> {
    const scope = tenantOf(ctx);
    this.assertHeld(ctx, dto.permissions);
    // null, like leaving them out, means no project and no quota.
    const projectId = dto.project_id ?? null;
    if (projectId !== null && !(await this.keys.projectExists(scope, projectId))) {
      throw KeyErrors.projectNotFound();
    }
    const quota =
      dto.quota === undefined || dto.quota === null ? null : this.quotas.inputForNewKey(dto.quota);
    const limits = rateLimits(dto.rate_limits);
    await this.assertWithinOrganization(scope, limits);
    const secret = generateSecret(dto.environment);
    const secretHash = hashSecret(secret);
    const { key, quotaId } = await this.keys.create(
      scope,
      ctx,
      {
        name: dto.name,
        description: dto.description ?? null,
        environment: dto.environment,
        projectId,
        prefix: displayPrefix(secret),
        secretHash,
        permissions: [...new Set(dto.permissions)],
        allowedIps: dto.allowed_ips ?? [],
        expiresAt: expiry(dto.expires_at),
        rateLimits: limits,
      },
      quota,
    );
    await this.announce(secretHash);
    if (quotaId === null) return { ...toKeyResponse(key), key: secret, quota: null };
    return {
      ...toKeyResponse(key),
      key: secret,
      quota: await this.quotas.createdWithKey(ctx, quotaId),
    };
  }

  async replace(ctx: AuthenticatedContext, id: string, dto: ReplaceKeyDto): Promise<KeyResponse> {
    return this.update(ctx, id, {
      name: dto.name,
      description: dto.description ?? null,
      permissions: dto.permissions,
      allowed_ips: dto.allowed_ips ?? [],
      expires_at: dto.expires_at ?? null,
      rate_limits: dto.rate_limits ?? [],
    });
  }

  async update(ctx: AuthenticatedContext, id: string, dto: UpdateKeyDto): Promise<KeyResponse> {
    rejectNulls(dto, ['name', 'permissions', 'allowed_ips', 'rate_limits']);
    const changes: KeyChanges = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.permissions !== undefined) {
      this.assertHeld(ctx, dto.permissions);
      changes.permissions = [...new Set(dto.permissions)];
    }
    if (dto.allowed_ips !== undefined) changes.allowedIps = dto.allowed_ips;
    if (dto.expires_at !== undefined) changes.expiresAt = expiry(dto.expires_at);
    if (dto.rate_limits !== undefined) {
      changes.rateLimits = rateLimits(dto.rate_limits);
      await this.assertWithinOrganization(tenantOf(ctx), changes.rateLimits);
    }
    const key = await this.keys.update(tenantOf(ctx), ctx, id, changes);
    // Its windows may have changed: every process re-reads them on its next request.
    await this.limiter.limitsChanged(tenantOf(ctx).organizationId);
    await this.cache.invalidate(id);
    return toKeyResponse(key);
  }

  /**
   * Revocation holds everywhere once this returns: the marker that the limiter checks in
   * every API-key request's single Redis round trip is set before answering, and every
   * process drops its cached copy on the published change.
   */
  async revoke(ctx: AuthenticatedContext, id: string, hide = false): Promise<KeyResponse> {
    const key = await this.keys.revoke(tenantOf(ctx), ctx, id, hide);
    await this.markRevoked(tenantOf(ctx), [id]);
    return toKeyResponse(key);
  }

  /** The ids of every key of the organization (for its deletion). */
  idsOf(scope: TenantScope): Promise<string[]> {
    return this.keys.idsOf(scope);
  }

  /** Refuses these keys on every process from now on (their rows may already be gone). */
  async markRevoked(scope: TenantScope, ids: string[]): Promise<void> {
    await this.limiter.markRevoked(scope.organizationId, ids);
    for (const id of ids) await this.cache.invalidate(id);
  }

  async rotate(
    ctx: AuthenticatedContext,
    id: string,
    dto: RotateKeyDto,
  ): Promise<KeyWithSecretResponse> {
    const scope = tenantOf(ctx);
    const current = await this.keys.findById(scope, id);
    if (current === null) throw KeyErrors.notFound();
    // The new secret is the key: whoever receives it acts with every permission it has.
    this.assertHeld(ctx, current.permissions, KeyErrors.rotateNotHeld);
    const secret = generateSecret(current.environment);
    const graceSeconds = dto.grace_period_seconds ?? 0;
    const graceUntil = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
    const secretHash = hashSecret(secret);
    const key = await this.keys.rotate(
      scope,
      ctx,
      id,
      { hash: secretHash, prefix: displayPrefix(secret) },
      graceUntil,
    );
    await this.cache.invalidate(id);
    await this.announce(secretHash);
    return { ...toKeyResponse(key), key: secret };
  }

  /**
   * A secret hash now belongs to a key: no process may still remember it as unknown, and a
   * client address over its failure limit may still look it up. Both are hints: a Redis
   * failure here costs a minute of 401s at worst for a hash no one could have guessed.
   */
  private async announce(secretHash: Buffer): Promise<void> {
    await Promise.all([
      this.cache.created(hashKeyOf(secretHash)).catch(() => undefined),
      this.knownHashes.mark(secretHash),
    ]);
  }

  /**
   * A key's windows may only be stricter than its organization's (400 naming the ceiling).
   * Lowering the organization's set later leaves existing keys as they are: the stricter
   * of the two windows of a length is the one enforced, and explain lists both.
   */
  private async assertWithinOrganization(
    scope: TenantScope,
    limits: KeyRateLimit[],
  ): Promise<void> {
    if (limits.length === 0) return;
    const errors = keyLimitsAboveCeiling(
      limits,
      await this.limits.organizationSet(scope.organizationId),
    );
    if (errors.length > 0) throw CommonErrors.validation(errors);
  }

  /** A key never holds (or hands over) a permission its creator (or rotator) lacks. */
  private assertHeld(
    ctx: AuthenticatedContext,
    permissions: Permission[],
    refusal = KeyErrors.permissionNotHeld,
  ): void {
    if (!permissions.every((permission) => allows(ctx.principal.permissions, permission))) {
      throw refusal();
    }
  }
}
