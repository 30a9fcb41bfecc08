import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `outbox` table, shared by every service that uses the outbox: each lists this migration, and
 * the first to start creates the table. `IF NOT EXISTS`: a database migrated before the services
 * ran their own migrations already has it.
 */
export class CreateOutbox1764000000001 implements MigrationInterface {
  name = 'CreateOutbox1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS "outbox" (
        "id"            bigserial    PRIMARY KEY,
        "event_id"      uuid         NOT NULL UNIQUE,
        "topic"         varchar      NOT NULL,
        "key"           varchar      NOT NULL,
        "payload"       jsonb        NOT NULL,
        "trace_context" jsonb        NOT NULL,
        "created_at"    timestamptz  NOT NULL DEFAULT now(),
        "sent_at"       timestamptz
      )`);
    // The relay only ever looks for unsent messages, oldest first.
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "outbox_unsent" ON "outbox" ("id") WHERE "sent_at" IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "outbox"`);
  }
}
