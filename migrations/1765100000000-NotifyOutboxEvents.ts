import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every statement that inserts outbox events also NOTIFYs `outbox_events`, which Postgres
 * delivers only when its transaction commits (never for one rolled back): the webhook relay
 * LISTENs and runs a pass at once instead of waiting for its next poll. Notifications of one
 * transaction are folded into one (same channel, same empty payload).
 */
export class NotifyOutboxEvents1765100000000 implements MigrationInterface {
  name = 'NotifyOutboxEvents1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox_events', '');
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER outbox_events_notify ON outbox_events');
    await queryRunner.query('DROP FUNCTION outbox_events_notify()');
  }
}
