import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The transactional outbox of both services, and the events each consumer group has processed. */
export class CreateOutbox1764000000001 implements MigrationInterface {
  name = 'CreateOutbox1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "outbox" (
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
    await queryRunner.query(`CREATE INDEX "outbox_unsent" ON "outbox" ("id") WHERE "sent_at" IS NULL`);
    await queryRunner.query(`
      CREATE TABLE "processed_events" (
        "consumer_group" varchar     NOT NULL,
        "event_id"       uuid        NOT NULL,
        "processed_at"   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("consumer_group", "event_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "processed_events"`);
    await queryRunner.query(`DROP TABLE "outbox"`);
  }
}
