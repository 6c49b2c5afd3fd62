import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { eventually } from './fake-server';
import { FAST } from './relay';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

/** The built relay (`node dist/main.js`) as a separate process, so a test can really kill it. */
export class RelayProcess {
  output = '';
  url = '';
  private constructor(private readonly child: ChildProcess) {}

  static async start(env: NodeJS.ProcessEnv, cwd?: string): Promise<RelayProcess> {
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      env: { ...process.env, ...FAST, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const relay = new RelayProcess(child);
    child.stdout.on('data', (chunk: Buffer) => (relay.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (relay.output += chunk.toString()));
    const port = await eventually(
      () => /listening on [^:]+:(\d+)/.exec(relay.output)?.[1],
      'the relay to listen',
      20_000,
    ).catch((error: Error) => {
      // Say why: what the process printed (its last lines), and whether it is still running.
      child.kill('SIGKILL');
      const tail = relay.output.split('\n').slice(-15).join('\n');
      throw new Error(`${error.message} (exited: ${relay.hasExited}); its output ended with:\n${tail}`);
    });
    relay.url = `http://127.0.0.1:${port}`;
    return relay;
  }

  /** A process killed by a signal keeps exitCode null: look at both. */
  private get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Resolves with the exit code once the process has ended on its own (e.g. after SIGTERM). */
  exited(): Promise<number | null> {
    if (this.hasExited) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops the process as a crash would: no shutdown hooks, nothing flushed. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.hasExited) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}

/** Runs `node dist/main.js` expecting it to stop by itself; returns its exit code and output. */
export function runUntilExit(
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...FAST, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
