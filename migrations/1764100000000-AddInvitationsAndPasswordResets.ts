import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts belong to their holder: adding an existing account to an organization makes an
 * invitation (a membership only once the holder accepts it, within 7 days), and an
 * administrator's password reset is a single-use token stored as its SHA-256, valid 1 hour.
 * Both go with their organization or account (FK cascade).
 */
export class AddInvitationsAndPasswordResets1764100000000 implements MigrationInterface {
  name = 'AddInvitationsAndPasswordResets1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE invitations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        email citext CHECK (length(email) <= 254),
        invited_by_type text NOT NULL CHECK (invited_by_type IN ('user', 'api_key')),
        invited_by_id uuid,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, user_id)
      )`);
    await queryRunner.query('CREATE INDEX invitations_user_id_idx ON invitations (user_id)');
    await queryRunner.query(`
      CREATE TABLE password_resets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL UNIQUE,
        created_by uuid,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX password_resets_user_id_idx ON password_resets (user_id)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE password_resets');
    await queryRunner.query('DROP TABLE invitations');
  }
}
