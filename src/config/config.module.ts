import { DynamicModule, Global, Module } from '@nestjs/common';
import { CONFIG, RelayConfig } from './config';
import { PublicUrls } from './public-urls';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: RelayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: CONFIG, useValue: config }, PublicUrls],
      exports: [CONFIG, PublicUrls],
    };
  }
}
