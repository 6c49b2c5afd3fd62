import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { RelayConfig } from './config/config';
import { WorkScheduler } from './delivery/work.scheduler';
import { buildOpenApiDocument } from './openapi';

/** Builds the app exactly as production runs it; main.ts and the end-to-end tests share it. */
export async function createRelayApp(config: RelayConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Swagger UI needs inline scripts and styles on /docs; everything else is JSON.
  app.use(helmet({ contentSecurityPolicy: { directives: { 'script-src': ["'self'", "'unsafe-inline'"], 'style-src': ["'self'", "'unsafe-inline'", 'https:'], 'img-src': ["'self'", 'data:', 'https:'] } } }));
  app.set('trust proxy', 1);
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** Listens, then starts the scheduler: no forward leaves before its callback URL can be answered. */
export async function listenAndRun(app: NestExpressApplication, port: number, host: string): Promise<number> {
  await app.listen(port, host);
  app.get(WorkScheduler).start();
  return (app.getHttpServer().address() as AddressInfo).port;
}
