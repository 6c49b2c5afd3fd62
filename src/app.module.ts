import { WalCheckpointer } from './database/wal-checkpointer';
import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DomainErrorFilter } from './common/domain-error.filter';
import { intakeThrottleOptions } from './common/intake-throttle';
import { JsonBodyMiddleware } from './common/json-body.middleware';
import { RequestValidationPipe } from './common/request-validation.pipe';
import { CONFIG, type RelayConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { buildDataSourceOptions } from './database/data-source-options';
import { initializeDataSource } from './database/migration-lock';
import { loggingOptions } from './logging/logging';
import { DeliveryModule } from './delivery/delivery.module';
import { HealthModule } from './health/health.module';
import { LlmCallbackModule } from './llm-callback/llm-callback.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReviewsModule } from './reviews/reviews.module';
import { SimulationModule } from './simulation/simulation.module';

@Module({})
export class AppModule implements NestModule {
  /** The whole relay for one validated configuration (see config/config.ts). */
  static forRoot(config: RelayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRootAsync({ inject: [CONFIG], useFactory: loggingOptions }),
        TypeOrmModule.forRootAsync({
          inject: [CONFIG],
          useFactory: (relay: RelayConfig) => buildDataSourceOptions(relay.database),
          dataSourceFactory: (options) => initializeDataSource(options!),
        }),
        ScheduleModule.forRoot(),
        ThrottlerModule.forRootAsync({ inject: [CONFIG], useFactory: intakeThrottleOptions }),
        DeliveryModule,
        ReviewsModule,
        LlmCallbackModule,
        SimulationModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        { provide: APP_PIPE, useClass: RequestValidationPipe },
        WalCheckpointer,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes('*path');
  }
}
