import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createRelayApp } from './bootstrap';
import { ConfigError } from './config/config-reader';
import { loadConfig, type RelayConfig } from './config/config';

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
  await app.listen(config.port, config.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  new Logger('Relay').log(`listening on ${config.host}:${port} (${config.database.kind}; LLM: ${config.llmApiUrl ? 'remote' : 'built-in simulation'})`);
}

main().catch((error: Error) => {
  process.stderr.write(`relay failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
