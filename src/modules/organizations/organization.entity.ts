import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { PolicySet } from '../rate-limit/rate-limit-setting.entity.js';

export const TIERS = ['free', 'standard', 'professional', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

@Entity('organizations')
export class Organization {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('citext')
  slug: string;

  @Column({ type: 'text', default: 'free' })
  tier: Tier;

  /** The organization's own rate-limit set (platform administrators); null: its tier's. */
  @Column({ type: 'jsonb', nullable: true })
  rateLimits: PolicySet | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
