import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { CONFIG, type RelayConfig } from './config/config';
import { ClientsModule } from './clients/clients.module';
import { ConfigModule } from './config/config.module';
import { DeliveryModule } from './delivery/delivery.module';
import { HealthModule } from './health/health.module';
import { DomainErrorFilter } from './http/domain-error.filter';
import { intakeThrottleOptions } from './http/intake-throttle';
import { JsonBodyMiddleware } from './http/json-body.middleware';
import { RequestValidationPipe } from './http/request-validation.pipe';
import { LlmCallbackModule } from './llm-callback/llm-callback.module';
import { LlmServerModule } from './llm-server/llm-server.module';
import { loggingOptions } from './logging/logging';
import { MetricsModule } from './metrics/metrics.module';
import { RetentionModule } from './retention/retention.module';
import { ReviewsModule } from './reviews/reviews.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { SimulationModule } from './simulation/simulation.module';

/** The top of the layers (docs/architecture.md): every feature module, the HTTP edge and the global providers. */
@Module({})
export class AppModule implements NestModule {
  /** The whole relay for one validated configuration (see config/config.ts). */
  static forRoot(config: RelayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRootAsync({ inject: [CONFIG], useFactory: loggingOptions }),
        ScheduleModule.forRoot(),
        ThrottlerModule.forRootAsync({ inject: [CONFIG], useFactory: intakeThrottleOptions }),
        ClientsModule,
        SchedulerModule,
        LlmServerModule,
        DeliveryModule,
        RetentionModule,
        ReviewsModule,
        LlmCallbackModule,
        SimulationModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        { provide: APP_PIPE, useClass: RequestValidationPipe },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes('*path');
  }
}
