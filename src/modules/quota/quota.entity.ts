import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { QuotaPeriod } from './quota-period.js';

/** bigint columns as numbers: max_requests stays below 2^53 (the DTO caps it). */
const bigintNumber = {
  to: (value: number) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** A request quota of one API key, or of a whole organization (api_key_id null). */
@Entity('quotas')
export class Quota {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column({ type: 'uuid', nullable: true })
  apiKeyId: string | null;

  @Column('text')
  period: QuotaPeriod;

  @Column({ type: 'bigint', transformer: bigintNumber })
  maxRequests: number;

  @Column({ type: 'timestamptz', nullable: true })
  periodStart: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  periodEnd: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
