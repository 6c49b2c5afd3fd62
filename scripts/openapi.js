#!/usr/bin/env node
// Writes the OpenAPI document of the built relay (dist/, where the Swagger CLI plugin has run) to a file, without
// listening on a port: `npm run openapi -- openapi.json`. Clients can be generated from it offline.
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const out = path.resolve(process.argv[2] ?? 'openapi.json');
  const { loadConfig } = require('../dist/config/config');
  const { createRelayApp } = require('../dist/bootstrap');
  const { buildOpenApiDocument } = require('../dist/openapi');
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'error',
    DATABASE_URL: 'sqlite:///:memory:',
  });
  const app = await createRelayApp(config);
  await app.init();
  fs.writeFileSync(out, `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`);
  await app.close();
  process.stderr.write(`OpenAPI document written to ${out}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
