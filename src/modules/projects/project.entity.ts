import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

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

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
