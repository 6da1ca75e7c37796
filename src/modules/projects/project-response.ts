import { effectiveIngestRateLimit } from './ingest-rate-limit.js';
import type { Project } from './project.entity.js';
import type { ProjectResponse } from './projects.dto.js';

/** `{scheme}://{public_key}@{host}{path}/{project_id}`, the DSN Sentry SDKs are given. */
export function dsnFor(publicUrl: string, project: Pick<Project, 'id' | 'publicKey'>): string {
  const url = new URL(publicUrl);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${project.publicKey}@${url.host}${path}/${project.id}`;
}

/** A project as the API returns it (and as its webhook events carry it). */
export function toProjectResponse(publicUrl: string, project: Project): ProjectResponse {
  return {
    id: project.id,
    organization_id: project.organizationId,
    name: project.name,
    slug: project.slug,
    platform: project.platform,
    public_key: project.publicKey,
    dsn: dsnFor(publicUrl, project),
    ingest_rate_limit: { ...effectiveIngestRateLimit(project.ingestRateLimit) },
    created_at: project.createdAt.toISOString(),
    updated_at: project.updatedAt.toISOString(),
  };
}
