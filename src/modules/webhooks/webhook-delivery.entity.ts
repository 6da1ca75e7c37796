import { Column, Entity, PrimaryColumn } from 'typeorm';

export type DeliveryStatus = 'succeeded' | 'failed';

/** One attempt to deliver one event to one endpoint. */
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column('uuid')
  webhookId: string;

  /** The outbox event's id (on the wire `evt_` + its hex). */
  @Column('uuid')
  eventId: string;

  @Column('text')
  eventType: string;

  /** 1 for the first attempt of this event to this endpoint, counting manual retries. */
  @Column('integer')
  attempt: number;

  @Column('text')
  status: DeliveryStatus;

  @Column({ type: 'integer', nullable: true })
  responseStatus: number | null;

  @Column('integer')
  durationMs: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The first 1 KB of the response body. */
  @Column({ type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ type: 'timestamptz' })
  createdAt: Date;
}
