import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery rounds: attempt numbers count on across redeliveries instead of restarting at 1, and each round keeps the
 * count it started from, so the retry budget still applies per round.
 *
 * Plain `ALTER TABLE … ADD/DROP COLUMN` on purpose: TypeORM's SQLite column changes rebuild the table, and dropping
 * `jobs` while foreign keys are on would cascade-delete every attempt row. The backfill is portable SQL (SQLite and
 * PostgreSQL). Before this migration a round began at an `attempt_no = 1` row, and a job requeued but not yet
 * claimed had `delivery_attempts = 0`; rows are renumbered in order, so `delivery_attempts` stays ahead of them.
 */
export class DeliveryRounds1795750000000 implements MigrationInterface {
  name = 'DeliveryRounds1795750000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN delivery_rounds integer NOT NULL DEFAULT 0');
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN delivery_round_base integer NOT NULL DEFAULT 0');
    await queryRunner.query('ALTER TABLE delivery_attempts ADD COLUMN delivery_round integer NULL');
    for (const statement of BACKFILL) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of UNDO) await queryRunner.query(statement);
    await queryRunner.query('ALTER TABLE delivery_attempts DROP COLUMN delivery_round');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN delivery_round_base');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN delivery_rounds');
  }
}

/** Delivery rows of the same job as the row being updated (`delivery_attempts` in the outer statement). */
const SAME_JOB = "s.job_id = delivery_attempts.job_id AND s.leg = 'delivery'";
const STARTED_DELIVERING = "status IN ('delivering', 'delivered', 'delivery_failed')";

const BACKFILL = [
  // A row's round: how many round starts (attempt 1) came up to it; at least 1 if the first row was lost to a crash.
  `UPDATE delivery_attempts SET delivery_round = COALESCE(NULLIF(
     (SELECT COUNT(*) FROM delivery_attempts s WHERE ${SAME_JOB} AND s.attempt_no = 1 AND s.id <= delivery_attempts.id),
   0), 1) WHERE leg = 'delivery'`,
  // A job's rounds: its round starts, plus the requeued round not yet claimed; at least 1 once delivery began.
  `UPDATE jobs SET delivery_rounds = COALESCE(NULLIF(
     (SELECT COUNT(*) FROM delivery_attempts s WHERE s.job_id = jobs.id AND s.leg = 'delivery' AND s.attempt_no = 1)
     + CASE WHEN delivery_attempts = 0 THEN 1 ELSE 0 END,
   0), 1) WHERE ${STARTED_DELIVERING}`,
  `UPDATE jobs SET delivery_round_base = (SELECT COUNT(*) FROM delivery_attempts s
     WHERE s.job_id = jobs.id AND s.leg = 'delivery' AND s.delivery_round < jobs.delivery_rounds)`,
  'UPDATE jobs SET delivery_attempts = delivery_attempts + delivery_round_base',
  `UPDATE delivery_attempts SET attempt_no =
     (SELECT COUNT(*) FROM delivery_attempts s WHERE ${SAME_JOB} AND s.id <= delivery_attempts.id)
   WHERE leg = 'delivery'`,
];

const UNDO = [
  'UPDATE jobs SET delivery_attempts = delivery_attempts - delivery_round_base',
  `UPDATE delivery_attempts SET attempt_no = (SELECT COUNT(*) FROM delivery_attempts s
     WHERE ${SAME_JOB} AND s.delivery_round = delivery_attempts.delivery_round AND s.id <= delivery_attempts.id)
   WHERE leg = 'delivery'`,
];
