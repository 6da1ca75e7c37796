import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { RequestContext } from '../../common/request-context.js';
import { withUniqueConflict } from '../../database/postgres-errors.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { AppConfig } from '../../config/config.classes.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { addOutboxEvent } from '../webhooks/outbox-writer.js';
import { toProjectResponse } from './project-response.js';
import { type IngestRateLimit, Project } from './project.entity.js';
import { PUBLIC_KEY_LENGTH } from './projects.dto.js';
import { ProjectErrors } from './projects.errors.js';

export interface ProjectFields {
  name: string;
  slug: string;
  platform: string | null;
  ingestRateLimit: IngestRateLimit | null;
}

function auditable(project: Partial<Project>): Record<string, unknown> {
  return {
    name: project.name,
    slug: project.slug,
    platform: project.platform,
    ingest_rate_limit: project.ingestRateLimit,
  };
}

@Injectable()
export class ProjectsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly app: AppConfig,
  ) {}

  /** Writes `type` with the project as the API returns it to the outbox, in `manager`'s transaction. */
  private async event(
    manager: EntityManager,
    type: 'project.created' | 'project.deleted',
    project: Project,
  ): Promise<void> {
    const data = toProjectResponse(this.app.publicUrl, project);
    await addOutboxEvent(manager, { organizationId: project.organizationId, type, data });
  }

  async list(scope: TenantScope, page: PageQuery): Promise<[Project[], number]> {
    return this.dataSource.manager.findAndCount(Project, {
      where: { ...scope },
      order: { id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
  }

  async findById(scope: TenantScope, id: number): Promise<Project | null> {
    return this.dataSource.manager.findOneBy(Project, { ...scope, id });
  }

  /**
   * The one read of a project without a tenant scope: Sentry ingestion, where the project id
   * comes from the URL and the DSN's public key is the credential, checked by the caller.
   */
  async findForIngest(id: number): Promise<Project | null> {
    return this.dataSource.manager.findOneBy(Project, { id });
  }

  async create(scope: TenantScope, ctx: RequestContext, fields: ProjectFields): Promise<Project> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const project = await manager.save(
            manager.create(Project, {
              ...fields,
              ...scope,
              publicKey: randomBytes(PUBLIC_KEY_LENGTH / 2).toString('hex'),
            }),
          );
          await recordAudit(manager, ctx, {
            action: 'project.created',
            organizationId: scope.organizationId,
            target: { type: 'project', id: String(project.id) },
            changes: auditable(project),
          });
          await this.event(manager, 'project.created', project);
          return project;
        }),
      ProjectErrors.slugTaken,
    );
  }

  async update(
    scope: TenantScope,
    ctx: RequestContext,
    id: number,
    changes: Partial<ProjectFields>,
  ): Promise<Project> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const before = await manager.findOne(Project, {
            where: { ...scope, id },
            lock: { mode: 'pessimistic_write' },
          });
          if (before === null) throw ProjectErrors.notFound();
          if (Object.keys(changes).length > 0)
            await manager.update(Project, { ...scope, id }, changes);
          const after = await manager.findOneByOrFail(Project, { ...scope, id });
          await recordAudit(manager, ctx, {
            action: 'project.updated',
            organizationId: scope.organizationId,
            target: { type: 'project', id: String(id) },
            changes: diff(auditable(before), auditable(after)),
          });
          return after;
        }),
      ProjectErrors.slugTaken,
    );
  }

  async remove(scope: TenantScope, ctx: RequestContext, id: number): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const project = await manager.findOneBy(Project, { ...scope, id });
      if (project === null) throw ProjectErrors.notFound();
      await manager.delete(Project, { ...scope, id });
      await recordAudit(manager, ctx, {
        action: 'project.deleted',
        organizationId: scope.organizationId,
        target: { type: 'project', id: String(id) },
        changes: auditable(project),
      });
      await this.event(manager, 'project.deleted', project);
    });
  }
}
