import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An event clients must hear about, written in the same transaction as the change that
 * caused it; the webhook relay turns it into delivery jobs and sets `dispatchedAt`.
 */
@Entity('outbox_events')
export class OutboxEvent {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column('text')
  type: string;

  /** The event's `data`. */
  @Column('jsonb')
  payload: Record<string, unknown>;

  @Column({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null;

  /** Only this endpoint gets it (a `webhook.test`); null: every subscribed endpoint. */
  @Column({ type: 'uuid', nullable: true })
  webhookId: string | null;
}
