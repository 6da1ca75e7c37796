import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const VERSION_STATUSES = ['beta', 'stable', 'deprecated', 'sunset'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

@Entity('api_versions')
export class ApiVersion {
  /** The URI segment: `v1`, `v2`. */
  @PrimaryColumn('text')
  version: string;

  @Column('text')
  status: VersionStatus;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  releasedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  deprecatedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  sunsetDate: Date | null;

  @Column({ type: 'text', nullable: true })
  migrationGuideUrl: string | null;

  @Column({ type: 'text', nullable: true })
  changelog: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
