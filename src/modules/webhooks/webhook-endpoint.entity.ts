import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A URL an organization receives its events at; its signing secret is kept sealed. */
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column('text')
  url: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** Event types delivered here, or `*` for all. */
  @Column('text', { array: true })
  events: string[];

  @Column('boolean')
  active: boolean;

  /** Why the server turned it off (`gone`: the receiver answered 410); null when a person did. */
  @Column({ type: 'text', nullable: true })
  disabledReason: string | null;

  /** The `whsec_` secret, sealed (AES-256-GCM, bound to the endpoint's id). */
  @Column('text')
  secretSealed: string;

  /** The secret before the last rotation, sealed; it signs alongside until the time below. */
  @Column({ type: 'text', nullable: true })
  previousSecretSealed: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
