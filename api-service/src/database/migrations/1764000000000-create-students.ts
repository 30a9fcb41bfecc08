import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStudents1764000000000 implements MigrationInterface {
  name = 'CreateStudents1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "students" (
        "id"         uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
        "firstname"  varchar(100) NOT NULL,
        "lastname"   varchar(100) NOT NULL,
        "created_at" timestamptz  NOT NULL DEFAULT now(),
        "fee_cents"  integer,
        "billed_at"  timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "students"`);
  }
}
