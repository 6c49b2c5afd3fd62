import { Module, OnModuleInit } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { JobsModule } from '../jobs/jobs.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { WorkScheduler } from '../scheduler/work.scheduler';
import { DeliveryService } from './delivery.service';
import { WebhookClient } from './webhook.client';

/** The leg to the web service: signed deliveries of each job's result to its webhook_url, retried until answered. */
@Module({
  imports: [ClientsModule, JobsModule, SchedulerModule],
  providers: [DeliveryService, WebhookClient],
})
export class DeliveryModule implements OnModuleInit {
  constructor(
    private readonly scheduler: WorkScheduler,
    private readonly delivery: DeliveryService,
  ) {}

  onModuleInit(): void {
    this.scheduler.register(this.delivery);
  }
}
