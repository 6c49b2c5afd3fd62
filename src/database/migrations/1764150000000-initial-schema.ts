import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

export class InitialSchema1764150000000 implements MigrationInterface {
  name = 'InitialSchema1764150000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'jobs',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'submission_id', type: 'varchar', length: '200' },
          { name: 'student_id', type: 'varchar', length: '200', isNullable: true },
          { name: 'file_refs', type: 'text' },
          { name: 'metadata', type: 'text', isNullable: true },
          { name: 'webhook_url', type: 'varchar', length: '2048' },
          { name: 'idempotency_key', type: 'varchar', length: '255', isNullable: true, isUnique: true },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'ok', type: 'boolean', isNullable: true },
          { name: 'result', type: 'text', isNullable: true },
          { name: 'error_code', type: 'varchar', length: '40', isNullable: true },
          { name: 'error_message', type: 'varchar', length: '1000', isNullable: true },
          { name: 'outcome_hash', type: 'varchar', length: '64', isNullable: true },
          { name: 'callback_token_hashes', type: 'text', default: "''" },
          { name: 'forward_attempts', type: 'integer', default: 0 },
          { name: 'delivery_attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'bigint', isNullable: true },
          { name: 'lease_token', type: 'varchar', length: '40', isNullable: true },
          { name: 'lease_expires_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          { name: 'forwarded_at', type: 'bigint', isNullable: true },
          { name: 'callback_deadline_at', type: 'bigint', isNullable: true },
          { name: 'outcome_at', type: 'bigint', isNullable: true },
          { name: 'delivered_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'idx_jobs_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'idx_jobs_submission', columnNames: ['submission_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'delivery_attempts',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'job_id', type: 'varchar', length: '40' },
          { name: 'leg', type: 'varchar', length: '10' },
          { name: 'attempt_no', type: 'integer' },
          { name: 'target', type: 'varchar', length: '2048' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'outcome', type: 'varchar', length: '10' },
          { name: 'error', type: 'varchar', length: '500', isNullable: true },
          { name: 'duration_ms', type: 'integer' },
          { name: 'started_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_attempts_job', columnNames: ['job_id', 'id'] })],
        foreignKeys: [
          new TableForeignKey({
            columnNames: ['job_id'],
            referencedTableName: 'jobs',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('delivery_attempts');
    await queryRunner.dropTable('jobs');
  }
}
