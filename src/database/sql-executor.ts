import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner, ValueTransformer } from 'typeorm';
import { Dialect } from './dialect';

export interface ExecuteResult {
  affected: number;
  records: ObjectLiteral[];
}

export type Execute = (sql: string, params: unknown[]) => Promise<ExecuteResult>;

/**
 * A value the database computes inside the statement: its clock (plus some milliseconds), the feed's next change
 * number, a column of the same row named by property (plus a number), or a text followed by a column's text. A class, so that users' JSON (metadata,
 * results) can never be mistaken for one.
 */
export class DbValue {
  private constructor(
    readonly kind: 'now' | 'changeSeq' | 'property' | 'concat',
    readonly amount: number,
    readonly property = '',
    readonly text = '',
  ) {}

  static now(plusMs = 0): DbValue {
    return new DbValue('now', Math.round(plusMs));
  }

  /** The feed's next change number (Dialect.changeSeq), for a write that sets a status. */
  static changeSeq(): DbValue {
    return new DbValue('changeSeq', 0);
  }

  static property(property: string, plus = 0): DbValue {
    return new DbValue('property', Math.round(plus), property);
  }

  static concat(text: string, property: string): DbValue {
    return new DbValue('concat', 0, property, text);
  }
}

/** Property → value to write; a DbValue is computed by the database. */
export type Changes = Record<string, unknown>;

/**
 * The one way the relay's repositories run SQL. Statements on the hot path (intake, claims, attempt outcomes) are
 * plain SQL with the entity's column names and transformers: TypeORM's query builder spends about 0.2 ms of
 * JavaScript on each statement (property names rewritten with regular expressions, parameters escaped, metadata
 * walked); a profile of the relay under load put a quarter of its CPU there. Placeholders are `?` (Dialect).
 */
@Injectable()
export class SqlExecutor {
  readonly dialect: Dialect;
  private readonly columns = new Map<EntityTarget<ObjectLiteral>, Map<string, ColumnMetadata>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.dialect = Dialect.of(dataSource);
  }

  /** `UPDATE table SET … WHERE <where>`; returns the number of rows changed. */
  async update(
    entity: EntityTarget<ObjectLiteral>,
    changes: Changes,
    where: string,
    whereParams: unknown[],
  ): Promise<number> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [property, value] of Object.entries(changes)) {
      const column = this.column(entity, property);
      sets.push(`${column.databaseName} = ${this.slot(entity, column, value, params)}`);
    }
    const sql = `UPDATE ${this.table(entity)} SET ${sets.join(', ')} WHERE ${where}`;
    return (await this.execute(sql, [...params, ...whereParams])).affected;
  }

  /** `INSERT INTO table (…) VALUES (…)`. */
  async insert(entity: EntityTarget<ObjectLiteral>, values: Changes): Promise<void> {
    const names: string[] = [];
    const slots: string[] = [];
    const params: unknown[] = [];
    for (const [property, value] of Object.entries(values)) {
      const column = this.column(entity, property);
      names.push(column.databaseName);
      slots.push(this.slot(entity, column, value, params));
    }
    await this.execute(`INSERT INTO ${this.table(entity)} (${names.join(', ')}) VALUES (${slots.join(', ')})`, params);
  }

  async execute(sql: string, params: unknown[]): Promise<ExecuteResult> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await this.run(runner, sql, params);
    } finally {
      await runner.release();
    }
  }

  /** Resolves when the database answers a trivial statement (readiness). */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /** Statements on one connection in one transaction: committed if `work` resolves, rolled back if it throws. */
  async transaction<T>(work: (execute: Execute) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      const result = await work((sql, params) => this.run(runner, sql, params));
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** Entities read back through TypeORM (its transformers and column mapping), for reads off the hot path. */
  repository<T extends ObjectLiteral>(entity: EntityTarget<T>) {
    return this.dataSource.getRepository(entity);
  }

  /**
   * SQLite only: a statement through the driver's own `exec`, not as a prepared statement (PRAGMAs such as
   * incremental_vacuum act once per call that way, instead of one page per step).
   */
  execSqlite(sql: string): void {
    (this.dataSource.driver as unknown as { databaseConnection: { exec(sql: string): void } }).databaseConnection.exec(
      sql,
    );
  }

  private async run(runner: QueryRunner, sql: string, params: unknown[]): Promise<ExecuteResult> {
    const result = await runner.query(this.dialect.placeholders(sql), params, true);
    return { affected: result.affected ?? 0, records: result.records ?? [] };
  }

  /** SQL for one value: a placeholder (its parameter pushed), or the database's own computation. */
  private slot(entity: EntityTarget<ObjectLiteral>, column: ColumnMetadata, value: unknown, params: unknown[]): string {
    if (!(value instanceof DbValue)) {
      params.push(toDatabase(column, value));
      return '?';
    }
    if (value.kind === 'now')
      return value.amount === 0 ? this.dialect.nowMs : `${this.dialect.nowMs} + ${value.amount}`;
    if (value.kind === 'changeSeq') return this.dialect.changeSeq;
    const other = this.column(entity, value.property).databaseName;
    if (value.kind === 'property') return value.amount === 0 ? other : `${other} + ${value.amount}`;
    return `${sqlString(value.text)} || ${other}`;
  }

  private table(entity: EntityTarget<ObjectLiteral>): string {
    return this.dataSource.getMetadata(entity).tableName;
  }

  private column(entity: EntityTarget<ObjectLiteral>, property: string): ColumnMetadata {
    let byProperty = this.columns.get(entity);
    if (!byProperty) {
      byProperty = new Map(this.dataSource.getMetadata(entity).columns.map((column) => [column.propertyName, column]));
      this.columns.set(entity, byProperty);
    }
    const column = byProperty.get(property);
    if (!column) throw new Error(`No column for ${property}`);
    return column;
  }
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function toDatabase(column: ColumnMetadata, value: unknown): unknown {
  const transformer = column.transformer as ValueTransformer | undefined;
  const stored = transformer ? transformer.to(value) : value;
  return stored === undefined ? null : stored;
}
