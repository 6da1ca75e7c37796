import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type IngestWindow = 'second' | 'minute' | 'hour' | 'day';

/** At most `limit` envelopes in any rolling `window` (API.md, Envelopes). */
export interface IngestRateLimit {
  window: IngestWindow;
  limit: number;
}

/** A project of an organization; its integer id and public key form the Sentry DSN. */
@Entity('projects')
export class Project {
  @PrimaryGeneratedColumn('identity', { type: 'integer' })
  id: number;

  @Column('uuid')
  organizationId: string;

  @Column('text')
  name: string;

  @Column('citext')
  slug: string;

  @Column({ type: 'text', nullable: true })
  platform: string | null;

  @Column('text')
  publicKey: string;

  /** Null: the default (DEFAULT_INGEST_RATE_LIMIT). */
  @Column({ type: 'jsonb', nullable: true })
  ingestRateLimit: IngestRateLimit | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
