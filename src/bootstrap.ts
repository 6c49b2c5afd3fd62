import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { RelayConfig } from './config/config';
import { DatabaseLock } from './database/database-lock';
import { waitForDatabase } from './database/open-data-source';
import { describeDatabase } from './config/database-url';
import { WorkScheduler } from './scheduler/work.scheduler';
import { WorkSignal } from './scheduler/work-signal';
import { RetentionSweeper } from './retention/retention.sweeper';
import { buildOpenApiDocument } from './openapi';
import { consoleSite, findConsoleAssets } from './operator-console/console-site';
import { StartupError } from './common/startup-error';

/** Builds the app exactly as production runs it; main.ts and the end-to-end tests share it. */
export async function createRelayApp(config: RelayConfig): Promise<NestExpressApplication> {
  const lock = DatabaseLock.acquire(config.database);
  let app: NestExpressApplication;
  try {
    await waitForDatabase(config.database, config.databaseStartTimeoutMs);
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
      bodyParser: false,
      // Nest announces "successfully started" before the port is bound: every start-up line waits for listenAndRun.
      bufferLogs: true,
      autoFlushLogs: false,
      // Throw instead of exiting, so the caller can report the failure (and a test can see it).
      abortOnError: false,
    });
  } catch (error) {
    lock.release();
    Logger.flush();
    throw error;
  }
  app.useLogger(app.get(PinoLogger));
  new Logger('Relay').log(`database: ${describeDatabase(config.database)}`);
  app.disable('x-powered-by');
  app.use(closeConnectionsWhileDraining(app.get(WorkSignal)));
  // Swagger UI needs inline scripts and styles on /docs; everything else is JSON, or the console, which sets a
  // stricter policy of its own (operator-console/console-site.ts).
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'self'", "'unsafe-inline'"],
          'style-src': ["'self'", "'unsafe-inline'", 'https:'],
          'img-src': ["'self'", 'data:', 'https:'],
        },
      },
    }),
  );
  app.set('trust proxy', 1);
  serveConsole(app, config);
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  keepIdleConnections(app.getHttpServer(), config.httpKeepAliveTimeoutMs);
  return app;
}

/** The operator's console at /console (CONSOLE_ENABLED); its files come from `npm run build`. */
function serveConsole(app: NestExpressApplication, config: RelayConfig): void {
  if (!config.consoleEnabled) return;
  const dir = findConsoleAssets();
  if (dir === null) new Logger('Relay').warn('console not built (npm run build makes dist/console): /console is 404');
  else app.use(consoleSite(dir));
}

/**
 * Listens, then starts the scheduler: no forward leaves before its callback URL can be answered. A port that cannot
 * be bound closes the app (releasing the database) and becomes a StartupError naming PORT and HOST.
 */
export async function listenAndRun(app: NestExpressApplication, port: number, host: string): Promise<number> {
  try {
    await app.listen(port, host);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw bindFailure(error as NodeJS.ErrnoException, port, host);
  }
  app.flushLogs();
  app.get(WorkScheduler).start();
  app.get(RetentionSweeper).start();
  return (app.getHttpServer().address() as AddressInfo).port;
}

function bindFailure(error: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new StartupError(
        `port ${port} on ${host} is already in use (another relay or program listens there); set PORT (or HOST) to a free address`,
      );
    case 'EACCES':
      return new StartupError(
        `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); set PORT to 1024 or above`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(
        `HOST ${host} is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0 for all`,
      );
    default:
      return error;
  }
}

/**
 * An idle keep-alive connection must outlive the idle timeout of whoever reuses it (nginx's upstream pool: 60 s;
 * load balancers and HTTP clients: similar), so that they, not the relay, close it: with Node's 5 s default, a client
 * sending its next request just as the relay closes the connection gets ECONNRESET. Headers (and whole requests) may
 * take longer than the keep-alive, as Node's documentation advises.
 */
function keepIdleConnections(server: Server, keepAliveMs: number): void {
  server.keepAliveTimeout = keepAliveMs;
  server.headersTimeout = keepAliveMs + 1000;
  server.requestTimeout = Math.max(server.requestTimeout, server.headersTimeout);
}

/**
 * While draining, every answer closes its connection. Otherwise a keep-alive connection answered during the drain
 * would sit idle for the whole keep-alive timeout and hold up the server's close (and the process's exit). A request
 * that arrived before the drain began is answered as usual, and its connection is ended right after if by then the
 * relay is draining.
 */
function closeConnectionsWhileDraining(work: WorkSignal) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (work.isDraining) {
      response.setHeader('Connection', 'close');
    } else {
      response.once('finish', () => {
        if (work.isDraining) request.socket.destroySoon();
      });
    }
    next();
  };
}
