import { Injectable } from '@nestjs/common';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import type { AuthenticatedContext } from '../../common/request-context.js';
import { rejectNulls } from '../../common/validation.js';
import { withUniqueConflict } from '../../database/postgres-errors.js';
import type { ApiVersion } from './api-version.entity.js';
import { VersionStore } from './version-store.js';
import type { CreateVersionDto, UpdateVersionDto, VersionResponse } from './versions.dto.js';
import { VersionErrors } from './versions.errors.js';
import { type VersionChanges, VersionsRepository } from './versions.repository.js';

export function toVersionResponse(row: ApiVersion): VersionResponse {
  return {
    version: row.version,
    status: row.status,
    description: row.description,
    released_at: row.releasedAt?.toISOString() ?? null,
    deprecated_at: row.deprecatedAt?.toISOString() ?? null,
    sunset_date: row.sunsetDate?.toISOString() ?? null,
    migration_guide_url: row.migrationGuideUrl,
    changelog: row.changelog,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** A sent timestamp as a Date; null clears it; undefined (not sent) stays undefined. */
function instant(value: string | null | undefined): Date | null | undefined {
  return value === undefined || value === null ? value : new Date(value);
}

/** The columns a PATCH body changes: only the fields sent. */
function changesOf(dto: UpdateVersionDto): VersionChanges {
  const changes: VersionChanges = {
    status: dto.status,
    description: dto.description,
    releasedAt: instant(dto.released_at),
    deprecatedAt: instant(dto.deprecated_at),
    sunsetDate: instant(dto.sunset_date),
    migrationGuideUrl: dto.migration_guide_url,
    changelog: dto.changelog,
  };
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}

/**
 * The API versions and their lifecycle. Reads are public; writes are for platform
 * administrators, and reach every api process's version store within a second.
 */
@Injectable()
export class VersionsService {
  constructor(
    private readonly versions: VersionsRepository,
    private readonly store: VersionStore,
  ) {}

  async list(query: PageQuery): Promise<Page<VersionResponse>> {
    const [rows, total] = await this.versions.list(query);
    return page(rows.map(toVersionResponse), total, query);
  }

  async get(version: string): Promise<VersionResponse> {
    const row = await this.versions.find(version);
    if (row === null) throw VersionErrors.notFound();
    return toVersionResponse(row);
  }

  async create(ctx: AuthenticatedContext, dto: CreateVersionDto): Promise<VersionResponse> {
    const organizationId = this.assertPlatformAdmin(ctx);
    const row = await withUniqueConflict(
      () =>
        this.versions.create(ctx, organizationId, {
          version: dto.version,
          status: dto.status,
          description: dto.description ?? null,
          // A version that is out of beta has been released: when, unless told, is now.
          releasedAt: instant(dto.released_at) ?? (dto.status === 'beta' ? null : new Date()),
          deprecatedAt: instant(dto.deprecated_at) ?? null,
          sunsetDate: instant(dto.sunset_date) ?? null,
          migrationGuideUrl: dto.migration_guide_url ?? null,
          changelog: dto.changelog ?? null,
        }),
      VersionErrors.duplicate,
    );
    await this.store.changed();
    return toVersionResponse(row);
  }

  async update(
    ctx: AuthenticatedContext,
    version: string,
    dto: UpdateVersionDto,
  ): Promise<VersionResponse> {
    const organizationId = this.assertPlatformAdmin(ctx);
    rejectNulls(dto, ['status']);
    const row = await this.versions.update(ctx, organizationId, version, changesOf(dto));
    await this.store.changed();
    return toVersionResponse(row);
  }

  async remove(ctx: AuthenticatedContext, version: string): Promise<void> {
    const organizationId = this.assertPlatformAdmin(ctx);
    await this.versions.remove(ctx, organizationId, version);
    await this.store.changed();
  }

  /** Versions are platform-wide; the audit entry goes to the administrator's organization. */
  private assertPlatformAdmin(ctx: AuthenticatedContext): string {
    if (ctx.principal.type !== 'user' || !ctx.principal.isPlatformAdmin)
      throw VersionErrors.platformAdminOnly();
    return ctx.principal.organizationId;
  }
}
