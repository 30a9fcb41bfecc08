import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The events billing has processed, by consumer group. `IF NOT EXISTS`: in a database migrated
 * before billing ran its own migrations, api-service's outbox migration had already created it.
 */
export class CreateProcessedEvents1764000000002 implements MigrationInterface {
  name = 'CreateProcessedEvents1764000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS "processed_events" (
        "consumer_group" varchar     NOT NULL,
        "event_id"       uuid        NOT NULL,
        "processed_at"   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("consumer_group", "event_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "processed_events"`);
  }
}
