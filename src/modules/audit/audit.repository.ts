import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../database/tenant-scope.js';
import { AuditEntry } from './audit-entry.entity.js';
import type { AuditQuery } from './audit.dto.js';

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The organization's entries, newest first, filtered as asked. */
  async list(scope: TenantScope, query: AuditQuery): Promise<[AuditEntry[], number]> {
    const builder = this.dataSource.manager
      .createQueryBuilder(AuditEntry, 'a')
      .where('a.organization_id = :organizationId', scope)
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC');
    if (query.actor_id !== undefined)
      builder.andWhere('a.actor_id = :actorId', { actorId: query.actor_id });
    if (query.action !== undefined)
      builder.andWhere('a.action = :action', { action: query.action });
    if (query.target_type !== undefined)
      builder.andWhere('a.target_type = :targetType', { targetType: query.target_type });
    if (query.target_id !== undefined)
      builder.andWhere('a.target_id = :targetId', { targetId: query.target_id });
    if (query.start_date !== undefined)
      builder.andWhere('a.created_at >= :start', { start: new Date(query.start_date) });
    if (query.end_date !== undefined)
      builder.andWhere('a.created_at < :end', { end: new Date(query.end_date) });
    return builder.offset(query.offset).limit(query.limit).getManyAndCount();
  }
}
