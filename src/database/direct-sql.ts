import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner, ValueTransformer } from 'typeorm';

export interface ExecuteResult {
  affected: number;
  records: ObjectLiteral[];
}

/** A value, or SQL computed by the database (e.g. its clock): `() => 'now + 5000'`. */
type Change = unknown | (() => string);

/**
 * The statements on the hot path (intake, claims, attempt outcomes), written as plain SQL with the entity's column
 * names and transformers. TypeORM's query builder spends about 0.2 ms of JavaScript on each statement (property
 * names rewritten with regular expressions, parameters escaped, metadata walked); a profile of the relay under load
 * put a quarter of its CPU there. Placeholders are `?`, turned into `$1…` on PostgreSQL.
 */
export class DirectSql {
  private readonly postgres: boolean;
  private readonly columns = new Map<EntityTarget<ObjectLiteral>, Map<string, ColumnMetadata>>();

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `UPDATE table SET … WHERE <where>`; returns the number of rows changed. */
  async update(entity: EntityTarget<ObjectLiteral>, changes: Record<string, Change>, where: string, whereParams: unknown[]): Promise<number> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [property, value] of Object.entries(changes)) {
      const column = this.column(entity, property);
      if (typeof value === 'function') sets.push(`${column.databaseName} = ${(value as () => string)()}`);
      else {
        sets.push(`${column.databaseName} = ?`);
        params.push(toDatabase(column, value));
      }
    }
    const sql = `UPDATE ${this.table(entity)} SET ${sets.join(', ')} WHERE ${where}`;
    return (await this.execute(sql, [...params, ...whereParams])).affected;
  }

  /** `INSERT INTO table (…) VALUES (…)`. */
  async insert(entity: EntityTarget<ObjectLiteral>, values: Record<string, Change>): Promise<void> {
    const names: string[] = [];
    const slots: string[] = [];
    const params: unknown[] = [];
    for (const [property, value] of Object.entries(values)) {
      const column = this.column(entity, property);
      names.push(column.databaseName);
      if (typeof value === 'function') slots.push((value as () => string)());
      else {
        slots.push('?');
        params.push(toDatabase(column, value));
      }
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

  /** Statements on one connection in one transaction: committed if `work` resolves, rolled back if it throws. */
  async transaction<T>(work: (execute: (sql: string, params: unknown[]) => Promise<ExecuteResult>) => Promise<T>): Promise<T> {
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

  private async run(runner: QueryRunner, sql: string, params: unknown[]): Promise<ExecuteResult> {
    let index = 0;
    const text = this.postgres ? sql.replace(/\?/g, () => `$${++index}`) : sql;
    const result = await runner.query(text, params, true);
    return { affected: result.affected ?? 0, records: result.records ?? [] };
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

function toDatabase(column: ColumnMetadata, value: unknown): unknown {
  const transformer = column.transformer as ValueTransformer | undefined;
  const stored = transformer ? transformer.to(value) : value;
  return stored === undefined ? null : stored;
}
