import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { CONFIG, type RelayConfig } from '../config/config';
import { isSqliteFile } from '../config/database-url';

/** How often the worker moves the WAL's frames into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The worker: its own better-sqlite3 connection to the relay's file, checkpointing the WAL (PASSIVE: never waits for
 * or blocks a writer) every CHECKPOINT_INTERVAL_MS. Plain CommonJS, run with `eval`, so it needs no file of its own.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true, timeout: 0 });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.all();
  } catch (error) {
    if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED') return;
    // Anything else (I/O error, file gone) would repeat every interval: say it once and leave it to the relay's own
    // automatic checkpoint.
    clearInterval(timer);
    parentPort.postMessage({ error: error.message });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * SQLite's WAL is checkpointed (its pages copied into the database file and synced) by whichever commit makes it pass
 * `wal_autocheckpoint` pages: on the relay's one thread, an intake or a claim then stalls every request for the time
 * of a sync (tens to hundreds of milliseconds on a large file). Here a worker thread checkpoints instead, on a
 * connection of its own, so the event loop never waits for it. The relay's connection keeps an automatic checkpoint
 * at a far larger WAL (SAFETY_NET_PAGES, set in the data source options) in case the worker stops.
 */
@Injectable()
export class WalCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WalCheckpointer.name);
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(@Inject(CONFIG) private readonly config: RelayConfig) {}

  onApplicationBootstrap(): void {
    const target = this.config.database;
    if (!isSqliteFile(target)) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: target.file, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    worker.on('message', (message: { error?: string }) => {
      if (message.error)
        this.logger.warn(
          `WAL checkpointer stopped on an error (the relay's own connection checkpoints from now on): ${message.error}`,
        );
    });
    worker.on('error', (error) =>
      this.logger.warn(`WAL checkpointer stopped (the relay's own connection checkpoints instead): ${error.message}`),
    );
    worker.unref();
    this.worker = worker;
    // Taken now: a worker that died early has already exited by the time of the shutdown.
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  }

  async onApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    // Referenced while stopping: an unreferenced wait would let a process with nothing else left end right here.
    worker.ref();
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** The relay connection's own automatic checkpoint, when the worker falls behind (sustained writes) or stops: 8 MiB of WAL. */
export const SAFETY_NET_PAGES = 2_000;
