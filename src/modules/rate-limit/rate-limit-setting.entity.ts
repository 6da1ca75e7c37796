import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A window's policy on the wire and in storage: `{"minute": {"limit": 100, "algorithm": "sliding_window"}}`. */
export type PolicySet = Partial<
  Record<
    'second' | 'minute' | 'hour' | 'day',
    { limit: number; algorithm: 'sliding_window' | 'token_bucket' }
  >
>;

@Entity('rate_limit_settings')
export class RateLimitSetting {
  /** `global`, `tier:<name>` or `org:<uuid>`. */
  @PrimaryColumn('text')
  scope: string;

  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  /** A PolicySet, or for `org:` scopes a map of route -> PolicySet. */
  @Column('jsonb')
  policies: object;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
