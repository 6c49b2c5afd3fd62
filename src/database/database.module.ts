import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CONFIG, type RelayConfig } from '../config/config';
import { buildDataSourceOptions } from './data-source-options';
import { DatabaseLock } from './database-lock';
import { initializeDataSource } from './migration-lock';
import { SqlExecutor } from './sql-executor';
import { WalCheckpointer } from './wal-checkpointer';

/**
 * The bottom of the relay: the DataSource (migrated under the lock, migration-lock.ts), the SQL executor every
 * repository runs its statements through, and the SQLite WAL checkpointer. The entities come from the modules that
 * own them (TypeOrmModule.forFeature). Every module that reads or writes imports this one, so Nest closes it last:
 * the final, fenced writes of attempts cut off at shutdown land before the DataSource closes.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [CONFIG],
      // bootstrap.ts has waited for the database (open-data-source.ts); TypeORM's own retries would be silent.
      useFactory: (relay: RelayConfig) => ({
        ...buildDataSourceOptions(relay.database, []),
        autoLoadEntities: true,
        retryAttempts: 0,
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await initializeDataSource(options!);
        DatabaseLock.releaseAfter(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [SqlExecutor, WalCheckpointer],
  exports: [SqlExecutor],
})
export class DatabaseModule {}
