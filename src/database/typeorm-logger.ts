import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerInterface } from 'typeorm';

/**
 * TypeORM's output through the relay's logger, never straight to the console. A failing statement is reported at debug level
 * without its parameters (they may hold credential hashes or users' data): the relay decides what a failure means
 * (a race lost to a unique key, an outage the scheduler reports once, a closed database at shutdown) and logs that
 * itself.
 */
export class TypeOrmLogger implements TypeOrmLoggerInterface {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    const message = typeof error === 'string' ? error : error.message;
    this.logger.debug?.(`statement failed (${message}): ${query.slice(0, 200)}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow statement (${time} ms): ${query.slice(0, 200)}`);
  }

  /** The relay says itself which migrations it applied (migration-lock.ts); TypeORM's play-by-play is left out. */
  logSchemaBuild(): void {}

  logMigration(): void {}

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug?.(String(message));
  }
}
