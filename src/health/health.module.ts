import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DeliveryModule } from '../delivery/delivery.module';
import { HealthController } from './health.controller';

// terminus' own logger reports every failed check at error level; the error filter logs them as warnings instead.
@Module({ imports: [TerminusModule.forRoot({ logger: false }), DeliveryModule], controllers: [HealthController] })
export class HealthModule {}
