import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '../../common/permissions.js';

/** A user's role in one organization. */
@Entity('memberships')
export class Membership {
  @PrimaryColumn('uuid')
  organizationId: string;

  @PrimaryColumn('uuid')
  userId: string;

  @Column('text')
  role: Role;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
