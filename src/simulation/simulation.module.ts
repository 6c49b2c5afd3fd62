import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { LlmCallbackModule } from '../llm-callback/llm-callback.module';
import { SimulatedLlmServer } from './simulated-llm.server';
import { SimulationController } from './simulation.controller';

@Module({
  imports: [ClientsModule, LlmCallbackModule],
  controllers: [SimulationController],
  providers: [SimulatedLlmServer],
})
export class SimulationModule {}
