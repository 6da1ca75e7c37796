import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuditActorType } from './audit-actions.js';

/** One row of the append-only, month-partitioned audit trail. */
@Entity('audit_log')
export class AuditEntry {
  @PrimaryColumn('uuid')
  id: string;

  @PrimaryColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @Column('text')
  action: string;

  @Column('text')
  actorType: AuditActorType;

  @Column({ type: 'text', nullable: true })
  actorId: string | null;

  @Column({ type: 'text', nullable: true })
  targetType: string | null;

  @Column({ type: 'text', nullable: true })
  targetId: string | null;

  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Column({ type: 'text', nullable: true })
  userAgent: string | null;

  @Column({ type: 'text', nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  changes: object | null;
}
