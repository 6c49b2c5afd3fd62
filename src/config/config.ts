import {
  DatabaseTarget,
  DEFAULT_DATABASE_POOL_SIZE,
  DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
  parseDatabaseUrl,
  postgresUrlProblems,
} from './database-url';
import { type LlmServerConfig, readLlmServers } from './llm-servers';
import { ConfigReader } from './config-reader';
import { readResultSchema, type ResultSchema } from './result-schema';

export const CONFIG = Symbol('RELAY_CONFIG');
export const DEFAULT_HMAC_SECRET = 'dev-secret';
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

export interface RetrySettings {
  /** Retries after the first attempt. */
  maxRetries: number;
  backoffSeconds: number;
  maxBackoffSeconds: number;
}

export interface RelayConfig {
  nodeEnv: string;
  production: boolean;
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';
  databaseUrl: string;
  database: DatabaseTarget;
  /** How long the start waits for a database that does not answer yet before it gives up. */
  databaseStartTimeoutMs: number;
  /** Null means the built-in simulated LLM plays the LLM server. */
  llmApiUrl: string | null;
  llmApiKey: string | null;
  llmForwardPath: string;
  /** Where cancellations are sent (with `{job_id}` filled in); null: the LLM is not told. */
  llmCancelPath: string | null;
  /** Jobs at the LLM (forwarded, not yet called back) across replicas; 0: no limit. */
  llmMaxInFlight: number;
  /** The fleet: LLM_SERVERS / LLM_SERVERS_FILE, or the one server LLM_API_URL (or the simulation) is. */
  llmServers: LlmServerConfig[];
  /** Retryable forward failures in a row that open a server's circuit. */
  llmServerFailureThreshold: number;
  /** How long an open circuit stays open before one forward probes it. */
  llmServerCooldownMs: number;
  /** How often a server with a health_path is probed. */
  llmServerHealthIntervalMs: number;
  /** A server failing every forward and probe tried for this long, on every replica, is dead: its jobs move on. */
  llmServerDeadAfterMs: number;
  /** Null: derived from the port actually bound (see PublicUrls). */
  publicBaseUrl: string | null;
  callbackHmacSecret: string;
  delivery: RetrySettings;
  forward: RetrySettings;
  retryAfterMaxSeconds: number;
  llmCallbackTimeoutSeconds: number;
  /** Progress never moves a job's callback deadline past this long after its forward. */
  llmJobMaxMs: number;
  /** How many times a job whose callback deadline passes is forwarded again before it is delivered as llm_timeout. */
  llmCallbackTimeoutRetries: number;
  outboundTimeoutMs: number;
  leaseMarginMs: number;
  schedulerIntervalMs: number;
  workerConcurrency: number;
  /** The built-in `default` client's keys. */
  relayApiKeys: string[];
  /** Operators' keys: every client's jobs, and client management; they cannot submit jobs. */
  relayAdminKeys: string[];
  /** The default client's previous signing secrets, signing beside CALLBACK_HMAC_SECRET while listed. */
  callbackHmacPreviousSecrets: string[];
  /** RELAY_ENCRYPTION_KEY (32 bytes): seals the clients' signing secrets at rest; null when unset. */
  encryptionKey: Buffer | null;
  /** RELAY_ENCRYPTION_PREVIOUS_KEYS: open what older keys sealed (resealed under the current one at start). */
  encryptionPreviousKeys: Buffer[];
  allowPrivateWebhookUrls: boolean;
  simulationEnabled: boolean;
  simulationDelayMs: number;
  intakeMaxBodyBytes: number;
  callbackMaxBodyBytes: number;
  shutdownGraceMs: number;
  /** How long an idle keep-alive connection stays open; longer than the proxies' and clients' own idle timeouts. */
  httpKeepAliveTimeoutMs: number;
  intakeRateLimit: number;
  intakeRateWindowSeconds: number;
  /** Jobs waiting for their forward past which intake answers 503; 0: no limit. */
  intakeMaxBacklog: number;
  intakeMaxEventLoopDelayMs: number;
  /** Finished jobs older than this are deleted; 0 keeps them forever. */
  jobRetentionDays: number;
  retentionSweepIntervalMs: number;
  /** RESULT_SCHEMA: what a successful result must match; null accepts any JSON value. */
  resultSchema: ResultSchema | null;
  /** Whether the operator's console is served at /console. */
  consoleEnabled: boolean;
}

/**
 * Reads and validates every variable at once, so a bad deployment fails with the full list
 * of problems instead of one per restart.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const r = new ConfigReader(env);
  const nodeEnv = r.string('NODE_ENV', 'development');
  const production = nodeEnv === 'production';
  const port = r.int('PORT', 8080, 0, 65535);
  const llmApiUrl = r.optionalUrl('LLM_API_URL');
  const config: RelayConfig = {
    nodeEnv,
    production,
    port,
    // Loopback outside production, so a first `npm start` is not an open relay; the image sets 0.0.0.0 itself.
    host: r.string('HOST', production ? '0.0.0.0' : '127.0.0.1'),
    logLevel: r.oneOf('LOG_LEVEL', production ? 'info' : 'debug', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'verbose',
    ]),
    databaseUrl: r.string('DATABASE_URL', 'sqlite:///./relay.db'),
    database: readDatabase(r),
    databaseStartTimeoutMs: Math.round(r.number('DATABASE_START_TIMEOUT_SECONDS', 30, 0, 3600) * 1000),
    llmApiUrl,
    llmApiKey: r.headerValue('LLM_API_KEY'),
    llmForwardPath: r.path('LLM_FORWARD_PATH', '/v1/reviews'),
    llmCancelPath: r.optionalPath('LLM_CANCEL_PATH', ['{job_id}']),
    llmMaxInFlight: r.int('LLM_MAX_IN_FLIGHT', 0, 0, 1_000_000),
    llmServers: [],
    llmServerFailureThreshold: r.int('LLM_SERVER_FAILURE_THRESHOLD', 5, 1, 1000),
    llmServerCooldownMs: Math.round(r.number('LLM_SERVER_COOLDOWN_SECONDS', 30, 1, 3600) * 1000),
    llmServerHealthIntervalMs: Math.round(r.number('LLM_SERVER_HEALTH_INTERVAL_SECONDS', 5, 1, 3600) * 1000),
    llmServerDeadAfterMs: Math.round(r.number('LLM_SERVER_DEAD_AFTER_SECONDS', 120, 1, 86_400) * 1000),
    publicBaseUrl: r.optionalUrl('PUBLIC_BASE_URL')?.replace(/\/+$/, '') ?? null,
    callbackHmacSecret: r.string('CALLBACK_HMAC_SECRET', DEFAULT_HMAC_SECRET),
    delivery: {
      maxRetries: r.int('CALLBACK_MAX_RETRIES', 6, 0, 100),
      backoffSeconds: r.number('CALLBACK_BACKOFF_SECONDS', 2, 0, 86400),
      maxBackoffSeconds: r.number('CALLBACK_MAX_BACKOFF_SECONDS', 3600, 0, 86400),
    },
    forward: {
      maxRetries: r.int('FORWARD_MAX_RETRIES', 6, 0, 100),
      backoffSeconds: r.number('FORWARD_BACKOFF_SECONDS', 2, 0, 86400),
      maxBackoffSeconds: r.number('FORWARD_MAX_BACKOFF_SECONDS', 3600, 0, 86400),
    },
    retryAfterMaxSeconds: r.number('RETRY_AFTER_MAX_SECONDS', 3600, 0, 86400),
    llmCallbackTimeoutSeconds: r.number('LLM_CALLBACK_TIMEOUT_SECONDS', 900, 0.01, 7 * 86400),
    llmJobMaxMs: Math.round(r.number('LLM_JOB_MAX_SECONDS', 86_400, 1, 30 * 86_400) * 1000),
    llmCallbackTimeoutRetries: r.int('LLM_CALLBACK_TIMEOUT_RETRIES', 0, 0, 10),
    outboundTimeoutMs: Math.round(r.number('OUTBOUND_TIMEOUT_SECONDS', 10, 0.05, 300) * 1000),
    leaseMarginMs: Math.round(r.number('LEASE_MARGIN_SECONDS', 20, 0.05, 300) * 1000),
    schedulerIntervalMs: r.int('SCHEDULER_INTERVAL_MS', 1000, 10, 3_600_000),
    workerConcurrency: r.int('WORKER_CONCURRENCY', 16, 1, 1000),
    relayApiKeys: r.list('RELAY_API_KEYS'),
    relayAdminKeys: r.list('RELAY_ADMIN_KEYS'),
    callbackHmacPreviousSecrets: r.list('CALLBACK_HMAC_PREVIOUS_SECRETS'),
    encryptionKey: readEncryptionKeys(r, 'RELAY_ENCRYPTION_KEY')[0] ?? null,
    encryptionPreviousKeys: readEncryptionKeys(r, 'RELAY_ENCRYPTION_PREVIOUS_KEYS'),
    allowPrivateWebhookUrls: r.bool('ALLOW_PRIVATE_WEBHOOK_URLS', !production),
    simulationEnabled: r.bool('SIMULATION_ENABLED', !production),
    simulationDelayMs: r.int('SIMULATION_DELAY_MS', 500, 0, 600_000),
    intakeMaxBodyBytes: r.int('INTAKE_MAX_BODY_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    callbackMaxBodyBytes: r.int('CALLBACK_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    shutdownGraceMs: Math.round(r.number('SHUTDOWN_GRACE_SECONDS', 10, 0, 600) * 1000),
    httpKeepAliveTimeoutMs: Math.round(r.number('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 65, 1, 3600) * 1000),
    intakeRateLimit: r.int('INTAKE_RATE_LIMIT', 600, 1, 1_000_000),
    intakeRateWindowSeconds: r.number('INTAKE_RATE_WINDOW_SECONDS', 60, 1, 86400),
    intakeMaxBacklog: r.int('INTAKE_MAX_BACKLOG', 0, 0, 100_000_000),
    intakeMaxEventLoopDelayMs: r.int('INTAKE_MAX_EVENT_LOOP_DELAY_MS', 0, 0, 60_000),
    jobRetentionDays: r.number('JOB_RETENTION_DAYS', 30, 0, 36_500),
    retentionSweepIntervalMs: Math.round(r.number('RETENTION_SWEEP_INTERVAL_SECONDS', 600, 0.05, 86_400) * 1000),
    resultSchema: readResultSchema(r),
    consoleEnabled: r.bool('CONSOLE_ENABLED', true),
  };
  config.llmServers = readLlmServers(r, env, llmApiUrl, {
    apiKey: config.llmApiKey,
    forwardPath: config.llmForwardPath,
    cancelPath: config.llmCancelPath,
  });
  if (config.callbackHmacPreviousSecrets.length > 4) {
    r.fail('CALLBACK_HMAC_PREVIOUS_SECRETS', 'may list at most 4 secrets (at most 5 sign at once)');
  }
  const shared = config.relayApiKeys.filter((key) => config.relayAdminKeys.includes(key));
  if (shared.length > 0) r.fail('RELAY_ADMIN_KEYS', 'must not repeat a key of RELAY_API_KEYS (a key has one role)');
  if (production) checkProductionSafety(config, r);
  r.throwIfInvalid();
  return config;
}

/** Comma-separated base64 keys of exactly 32 bytes each (AES-256). */
function readEncryptionKeys(r: ConfigReader, name: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const [index, text] of r.list(name).entries()) {
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null;
    if (!key || key.length !== 32) {
      r.fail(name, `entry ${index + 1} must be 32 bytes in base64 (openssl rand -base64 32)`);
    } else keys.push(key);
  }
  if (name === 'RELAY_ENCRYPTION_KEY' && keys.length > 1)
    r.fail(name, 'must be one key (older ones go to RELAY_ENCRYPTION_PREVIOUS_KEYS)');
  return keys;
}

function readDatabase(r: ConfigReader): DatabaseTarget {
  const poolSize = r.int('DATABASE_POOL_SIZE', DEFAULT_DATABASE_POOL_SIZE, 1, 1000);
  const statementTimeoutMs = r.int(
    'DATABASE_STATEMENT_TIMEOUT_MS',
    DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
    0,
    86_400_000,
  );
  try {
    const target = parseDatabaseUrl(r.string('DATABASE_URL', 'sqlite:///./relay.db'));
    if (target.kind === 'sqlite') return target;
    for (const problem of postgresUrlProblems(target.url)) r.fail('DATABASE_URL', problem);
    return { ...target, poolSize, statementTimeoutMs };
  } catch (error) {
    r.fail('DATABASE_URL', (error as Error).message.replace(/^DATABASE_URL /, ''));
    return { kind: 'sqlite', file: ':memory:' };
  }
}

function checkProductionSafety(config: RelayConfig, r: ConfigReader): void {
  if (config.callbackHmacSecret === DEFAULT_HMAC_SECRET) {
    r.fail('CALLBACK_HMAC_SECRET', 'must be set to a secret of your own in production (the default is public)');
  } else if (config.callbackHmacSecret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    r.fail('CALLBACK_HMAC_SECRET', `must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`);
  }
  if (config.relayApiKeys.length === 0 && config.relayAdminKeys.length === 0) {
    r.fail('RELAY_API_KEYS', 'or RELAY_ADMIN_KEYS must list at least one key in production');
  }
  if (config.llmServers.some((server) => server.url === null)) {
    r.fail('LLM_API_URL', 'or LLM_SERVERS must be set in production (the simulated LLM is for development)');
  }
}
