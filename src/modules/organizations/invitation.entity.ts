import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from '../../common/permissions.js';

/**
 * An organization's offer of a membership to an existing account: it becomes a membership
 * only when the account holder accepts it, before `expiresAt` (7 days). Declined, cancelled
 * and accepted invitations are deleted; expired ones are never read, and the worker's
 * retention job deletes them within the hour (see invitations-resets-retention.sql.ts).
 */
@Entity('invitations')
export class Invitation {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column('uuid')
  userId: string;

  @Column('text')
  role: Role;

  /** The address the inviter typed, if they invited by email (what the organization may see). */
  @Column({ type: 'citext', nullable: true })
  email: string | null;

  @Column('text')
  invitedByType: 'user' | 'api_key';

  @Column({ type: 'uuid', nullable: true })
  invitedById: string | null;

  @Column('timestamptz')
  expiresAt: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
