import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * event_issues.last_notified_at: when the issue last sent an `envelope.received` webhook
 * event. The worker's issue upsert sets it (and writes the outbox event, in the same
 * transaction) only when it is null or at least a minute old: at most one a minute per issue.
 */
export class AddEventIssueLastNotified1765300000000 implements MigrationInterface {
  name = 'AddEventIssueLastNotified1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE event_issues ADD COLUMN last_notified_at timestamptz');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE event_issues DROP COLUMN last_notified_at');
  }
}
