import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Permission } from '../../common/permissions.js';
import type { Environment } from './key-secret.js';

export interface KeyRateLimit {
  window: 'second' | 'minute' | 'hour' | 'day';
  limit: number;
  algorithm: 'sliding_window' | 'token_bucket';
}

@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column({ type: 'integer', nullable: true })
  projectId: number | null;

  @Column('text')
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column('text')
  environment: Environment;

  @Column('text')
  prefix: string;

  @Column({ type: 'bytea', select: false })
  secretHash: Buffer;

  @Column({ type: 'bytea', nullable: true, select: false })
  previousSecretHash: Buffer | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column('text', { array: true })
  permissions: Permission[];

  @Column('text', { array: true, default: '{}' })
  allowedIps: string[];

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'jsonb', default: [] })
  rateLimits: KeyRateLimit[];

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
