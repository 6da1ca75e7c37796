import { Injectable } from '@nestjs/common';
import { rejectNulls } from '../../common/validation.js';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { slugWithSuffix } from '../../common/slug.js';
import { AppConfig } from '../../config/config.classes.js';
import type { Project } from './project.entity.js';
import type {
  CreateProjectDto,
  ProjectResponse,
  ReplaceProjectDto,
  UpdateProjectDto,
} from './projects.dto.js';
import { IngestProjects } from './ingest-projects.js';
import { toProjectResponse } from './project-response.js';
import { ProjectErrors } from './projects.errors.js';
import { type ProjectFields, ProjectsRepository } from './projects.repository.js';

@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly app: AppConfig,
    private readonly ingestProjects: IngestProjects,
  ) {}

  private toResponse(project: Project): ProjectResponse {
    return toProjectResponse(this.app.publicUrl, project);
  }

  async list(ctx: AuthenticatedContext, query: PageQuery): Promise<Page<ProjectResponse>> {
    const [projects, total] = await this.projects.list(tenantOf(ctx), query);
    return page(
      projects.map((project) => this.toResponse(project)),
      total,
      query,
    );
  }

  async get(ctx: AuthenticatedContext, id: number): Promise<ProjectResponse> {
    const project = await this.projects.findById(tenantOf(ctx), id);
    if (project === null) throw ProjectErrors.notFound();
    return this.toResponse(project);
  }

  async create(ctx: AuthenticatedContext, dto: CreateProjectDto): Promise<ProjectResponse> {
    const fields: ProjectFields = {
      name: dto.name,
      slug: dto.slug ?? slugWithSuffix(dto.name),
      platform: dto.platform ?? null,
      ingestRateLimit: null,
    };
    const project = await this.projects.create(tenantOf(ctx), ctx, fields);
    // A process may have remembered this id as unknown (a DSN tried before it existed).
    await this.ingestProjects.changed(project.id);
    return this.toResponse(project);
  }

  async replace(
    ctx: AuthenticatedContext,
    id: number,
    dto: ReplaceProjectDto,
  ): Promise<ProjectResponse> {
    return this.update(ctx, id, {
      name: dto.name,
      slug: dto.slug,
      platform: dto.platform ?? null,
      ingest_rate_limit: dto.ingest_rate_limit ?? null,
    });
  }

  async update(
    ctx: AuthenticatedContext,
    id: number,
    dto: UpdateProjectDto,
  ): Promise<ProjectResponse> {
    rejectNulls(dto, ['name', 'slug']);
    const changes: Partial<ProjectFields> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.slug !== undefined) changes.slug = dto.slug;
    if (dto.platform !== undefined) changes.platform = dto.platform;
    if (dto.ingest_rate_limit !== undefined) {
      const own = dto.ingest_rate_limit;
      changes.ingestRateLimit = own === null ? null : { window: own.window, limit: own.limit };
    }
    const project = await this.projects.update(tenantOf(ctx), ctx, id, changes);
    if (changes.ingestRateLimit !== undefined) await this.ingestProjects.changed(id);
    return this.toResponse(project);
  }

  async remove(ctx: AuthenticatedContext, id: number): Promise<void> {
    await this.projects.remove(tenantOf(ctx), ctx, id);
    // Its DSN stops working on every process (before this call returns, here).
    await this.ingestProjects.changed(id);
  }
}
