import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Case-insensitive text for usernames, emails and slugs, so uniqueness holds whatever the
 * case a client sends. citext is a trusted extension: the database owner can create it.
 */
export class EnableCitext1764028800000 implements MigrationInterface {
  name = 'EnableCitext1764028800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS citext');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP EXTENSION IF EXISTS citext');
  }
}
