import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createRelayApp, listenAndRun } from '../../src/bootstrap';
import { loadConfig, type RelayConfig } from '../../src/config/config';
import { checkResponsesAgainstOpenApi } from './openapi-check';
import { RelayClient } from './relay-client';
import { schedulerOf, type WorkScheduler } from './scheduler';

export { reviewBody } from './relay-client';

/** Settings that make retries and ticks fast enough for tests: time is driven by configuration, not sleeps. */
export const FAST: NodeJS.ProcessEnv = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  HOST: '127.0.0.1',
  PORT: '0',
  SCHEDULER_INTERVAL_MS: '50',
  CALLBACK_BACKOFF_SECONDS: '0.02',
  FORWARD_BACKOFF_SECONDS: '0.02',
  OUTBOUND_TIMEOUT_SECONDS: '2',
  SIMULATION_DELAY_MS: '10',
};

export function tempDir(prefix = 'relay-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RunningRelay {
  app: NestExpressApplication;
  config: RelayConfig;
  url: string;
  http: ReturnType<typeof request>;
  /** The API client (no receiver of its own: pass webhook_url, or use a LoopbackStack's client). */
  client: RelayClient;
  scheduler: WorkScheduler;
  /** Idempotent: the first call closes the app (scheduler drain included), later calls wait for that. */
  close(): Promise<void>;
}

/** Boots the real AppModule on a real SQLite file (unless DATABASE_URL says otherwise) on a loopback port. */
export async function startRelay(env: NodeJS.ProcessEnv = {}, keepDir?: string): Promise<RunningRelay> {
  const dir = keepDir ?? tempDir();
  const config = loadConfig({ ...FAST, DATABASE_URL: `sqlite:///${dir}/relay.db`, ...env });
  const app = await createRelayApp(config);
  app.use(checkResponsesAgainstOpenApi());
  const url = `http://127.0.0.1:${await listenAndRun(app, 0, '127.0.0.1')}`;
  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    url,
    http: request(url),
    client: new RelayClient(url),
    scheduler: schedulerOf(app),
    close: () =>
      (closing ??= app.close().then(() => {
        if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
      })),
  };
}
