import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An administrator's password reset of an account: the token is shown once and stored only as
 * its SHA-256; single use, valid 1 hour. Used and expired ones are deleted by the worker's
 * retention job within the hour (see invitations-resets-retention.sql.ts).
 */
@Entity('password_resets')
export class PasswordReset {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  userId: string;

  /** The organization whose administrator issued it. */
  @Column('uuid')
  organizationId: string;

  @Column('bytea')
  tokenHash: Buffer;

  @Column({ type: 'uuid', nullable: true })
  createdBy: string | null;

  @Column('timestamptz')
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
