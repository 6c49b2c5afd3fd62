import './require-supported-node';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createRelayApp, listenAndRun } from './bootstrap';
import { ConfigError } from './config/config-reader';
import { loadConfig, type RelayConfig } from './config/config';
import { exitOnStartFailure } from './common/startup-error';

async function main(): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  const app = await createRelayApp(config);
  stopGracefullyOn(['SIGTERM', 'SIGINT'], () => app.close());
  const port = await listenAndRun(app, config.port, config.host);
  new Logger('Relay').log(
    `listening on ${config.host}:${port} (${config.database.kind}; LLM: ${config.llmServers.every((server) => server.url !== null) ? config.llmServers.map((server) => server.name).join(', ') : 'built-in simulation'})`,
  );
}

/**
 * Nest's own shutdown hooks re-raise the signal after closing, so the process would end "killed by SIGTERM"; an
 * orderly stop should exit 0 once the app (scheduler drain included) has closed, and say so.
 */
function stopGracefullyOn(signals: NodeJS.Signals[], close: () => Promise<void>): void {
  let stopping = false;
  for (const signal of signals) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      const logger = new Logger('Relay');
      const started = Date.now();
      logger.log(`${signal} received: draining`);
      close().then(
        () => {
          logger.log(`stopped: drained and closed in ${Date.now() - started} ms`);
          process.exit(0);
        },
        (error: Error) => {
          process.stderr.write(`shutdown failed: ${error.message}\n`);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: Error) => exitOnStartFailure('relay failed to start', error));
