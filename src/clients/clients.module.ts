import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CONFIG, type RelayConfig } from '../config/config';
import { DatabaseModule } from '../database/database.module';
import { CallerGuard } from './caller.guard';
import { CLIENT_ENTITIES } from './client.entity';
import { ClientDirectory } from './client-directory';
import { ClientsController } from './clients.controller';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';
import { SecretBox } from './secret-box';
import { SigningSecrets } from './signing-secrets.service';

/**
 * The web services the relay serves: who a key belongs to (ClientDirectory, CallerGuard), their signing secrets
 * (SigningSecrets) and the management API. Below the jobs' readers and the delivery leg, which scope and sign by it.
 */
@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature(CLIENT_ENTITIES)],
  controllers: [ClientsController],
  providers: [
    ClientsRepository,
    ClientDirectory,
    CallerGuard,
    ClientsService,
    SigningSecrets,
    {
      provide: SecretBox,
      inject: [CONFIG],
      useFactory: (config: RelayConfig) => new SecretBox(config.encryptionKey, config.encryptionPreviousKeys),
    },
  ],
  exports: [ClientDirectory, CallerGuard, SigningSecrets],
})
export class ClientsModule {}
