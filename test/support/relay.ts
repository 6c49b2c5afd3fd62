import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createRelayApp, listenAndRun } from '../../src/bootstrap';
import { loadConfig, type RelayConfig } from '../../src/config/config';
import { WorkScheduler } from '../../src/scheduler/work.scheduler';
import { FakeServer } from './fake-server';
import { checkResponsesAgainstOpenApi } from './openapi-check';

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
    scheduler: app.get(WorkScheduler),
    close: () =>
      (closing ??= app.close().then(() => {
        if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
      })),
  };
}

export function reviewBody(webhookUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    submission_id: 'subm-001',
    student_id: 'stu-42',
    file_refs: [{ url: 'https://files.example.com/1.pdf' }],
    metadata: { course: 'ML-101' },
    webhook_url: webhookUrl,
    ...overrides,
  };
}

export interface LoopbackStack {
  llm: FakeServer;
  web: FakeServer;
  relay: RunningRelay;
  close(): Promise<void>;
}

/** A relay between a fake LLM that accepts every job and never calls back (the test plays it) and a 200 receiver. */
export async function startLoopbackStack(env: NodeJS.ProcessEnv = {}): Promise<LoopbackStack> {
  const llm = await FakeServer.start(() => ({ status: 202 }));
  const web = await FakeServer.start(() => ({ status: 200 }));
  const relay = await startRelay({ LLM_API_URL: llm.url, ...env });
  return {
    llm,
    web,
    relay,
    close: async () => {
      await relay.close();
      await llm.close();
      await web.close();
    },
  };
}
