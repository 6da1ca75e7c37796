import { Injectable } from '@nestjs/common';
import { type Page, page } from '../../common/envelope.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import type { AuditEntry } from './audit-entry.entity.js';
import type { AuditEntryResponse, AuditQuery } from './audit.dto.js';
import { AuditRepository } from './audit.repository.js';

function toResponse(entry: AuditEntry): AuditEntryResponse {
  return {
    id: entry.id,
    action: entry.action,
    actor: { type: entry.actorType, id: entry.actorId },
    target: entry.targetType === null ? null : { type: entry.targetType, id: entry.targetId },
    organization_id: entry.organizationId,
    ip: entry.ip,
    user_agent: entry.userAgent,
    request_id: entry.requestId,
    changes: entry.changes,
    created_at: entry.createdAt.toISOString(),
  };
}

@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async list(ctx: AuthenticatedContext, query: AuditQuery): Promise<Page<AuditEntryResponse>> {
    const [entries, total] = await this.audit.list(tenantOf(ctx), query);
    return page(entries.map(toResponse), total, query);
  }
}
