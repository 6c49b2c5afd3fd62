import { unsupportedNodeMessage } from './node-version';

// Imported first by main.ts: on an unsupported Node, stop before reflect-metadata, Nest or better-sqlite3 load.
const message = unsupportedNodeMessage(process.versions.node);
if (message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
