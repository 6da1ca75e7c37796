import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys: only the SHA-256 of a secret is stored (the secret has full entropy, so a fast
 * hash is enough), with a display prefix. A rotation keeps the previous hash until its grace
 * period ends. Keys are never hard-deleted: DELETE revokes and hides them.
 */
export class AddApiKeys1764043200000 implements MigrationInterface {
  name = 'AddApiKeys1764043200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        project_id integer REFERENCES projects(id) ON DELETE SET NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        description text CHECK (length(description) <= 1000),
        environment text NOT NULL CHECK (environment IN ('live', 'test')),
        prefix text NOT NULL,
        secret_hash bytea NOT NULL UNIQUE,
        previous_secret_hash bytea UNIQUE,
        previous_secret_expires_at timestamptz,
        permissions text[] NOT NULL,
        allowed_ips text[] NOT NULL DEFAULT '{}',
        expires_at timestamptz,
        rate_limits jsonb NOT NULL DEFAULT '[]',
        revoked_at timestamptz,
        deleted_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX api_keys_organization_idx ON api_keys (organization_id, created_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE api_keys');
  }
}
