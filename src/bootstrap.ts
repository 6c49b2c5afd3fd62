import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { API_KEY_SCHEME, BEARER_SCHEME } from './common/api-key.guard';
import type { RelayConfig } from './config/config';

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
  setUpSwagger(app);
  return app;
}

function setUpSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('LLM Relay')
      .setDescription(
        'Takes review jobs from a web service, forwards them to an asynchronous LLM server, waits for its callback ' +
          'and delivers the signed result to the job\'s webhook_url, retrying until acknowledged.',
      )
      .setVersion(process.env.npm_package_version ?? '0.1.0')
      .setLicense('MIT', 'https://opensource.org/licenses/MIT')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, BEARER_SCHEME)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
