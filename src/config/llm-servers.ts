import * as fs from 'node:fs';
import type { ConfigReader } from './config-reader';

/** One LLM server of the fleet, as configured (LLM_SERVERS, LLM_SERVERS_FILE, or LLM_API_URL alone). */
export interface LlmServerConfig {
  /** Unique; letters, digits, `-` and `_`. Appears in jobs, timelines, logs and metrics. */
  name: string;
  /** Base URL; null for the built-in simulated LLM (no LLM_API_URL, no LLM_SERVERS, outside production). */
  url: string | null;
  /** Bearer key for this server (from the variable `api_key_env` names, else LLM_API_KEY). */
  apiKey: string | null;
  /** Its capacity: jobs at it at most, across replicas (0: no limit). */
  maxInFlight: number;
  /** Its share of the forwards among the available servers (1–100). */
  weight: number;
  forwardPath: string;
  /** Null: no cancel notices to it. */
  cancelPath: string | null;
  /** Null: no health probes. */
  healthPath: string | null;
}

/** The name of the one server LLM_API_URL (or the simulation) describes. */
export const DEFAULT_LLM_SERVER = 'default';

const FIELDS = ['name', 'url', 'api_key_env', 'max_in_flight', 'weight', 'forward_path', 'cancel_path', 'health_path'];
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused in a header value
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface LlmServerDefaults {
  apiKey: string | null;
  forwardPath: string;
  cancelPath: string | null;
}

/**
 * The fleet. LLM_SERVERS (a JSON array) or LLM_SERVERS_FILE (the path of a file holding one) lists the servers; without
 * either, LLM_API_URL is one server named `default` (or the built-in simulation); setting LLM_API_URL too is an error.
 * Every problem names the variable, the server and the field.
 */
export function readLlmServers(
  r: ConfigReader,
  env: NodeJS.ProcessEnv,
  llmApiUrl: string | null,
  defaults: LlmServerDefaults,
): LlmServerConfig[] {
  const inline = r.optionalString('LLM_SERVERS');
  const file = r.optionalString('LLM_SERVERS_FILE');
  if (inline === null && file === null) {
    return [{ name: DEFAULT_LLM_SERVER, url: llmApiUrl, maxInFlight: 0, weight: 1, healthPath: null, ...defaults }];
  }
  const source = inline !== null ? 'LLM_SERVERS' : 'LLM_SERVERS_FILE';
  if (inline !== null && file !== null) r.fail('LLM_SERVERS', 'and LLM_SERVERS_FILE must not both be set');
  if (llmApiUrl !== null) r.fail('LLM_API_URL', `must not be set with ${source} (list that server there instead)`);
  let text = inline;
  if (text === null) {
    try {
      text = fs.readFileSync(file!, 'utf8');
    } catch (error) {
      r.fail('LLM_SERVERS_FILE', `cannot be read: ${(error as Error).message}`);
      return [];
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    r.fail(source, `must be a JSON array of servers: ${(error as Error).message}`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 100) {
    r.fail(source, 'must be a JSON array of 1 to 100 servers');
    return [];
  }
  const servers: LlmServerConfig[] = [];
  for (const [index, entry] of parsed.entries()) {
    const server = readServer(r, env, source, index, entry, defaults);
    if (server === null) continue;
    if (servers.some((other) => other.name === server.name)) {
      r.fail(source, `server ${server.name}: name is used twice (names are unique)`);
      continue;
    }
    servers.push(server);
  }
  return servers;
}

function readServer(
  r: ConfigReader,
  env: NodeJS.ProcessEnv,
  source: string,
  index: number,
  entry: unknown,
  defaults: LlmServerDefaults,
): LlmServerConfig | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    r.fail(source, `entry ${index + 1} must be an object`);
    return null;
  }
  const fields = entry as Record<string, unknown>;
  const name = typeof fields.name === 'string' && NAME.test(fields.name) ? fields.name : null;
  const label = name ? `server ${name}` : `entry ${index + 1}`;
  const fail = (field: string, problem: string) => r.fail(source, `${label}: ${field} ${problem}`);
  if (name === null) fail('name', 'must be 1 to 64 letters, digits, "-" or "_"');
  for (const field of Object.keys(fields)) if (!FIELDS.includes(field)) fail(field, 'is not a known field');

  const url = typeof fields.url === 'string' && isHttpUrl(fields.url) ? fields.url.replace(/\/+$/, '') : null;
  if (url === null) fail('url', 'must be an absolute http(s) URL');

  let apiKey = defaults.apiKey;
  if (fields.api_key_env !== undefined) {
    if (typeof fields.api_key_env !== 'string' || !ENV_NAME.test(fields.api_key_env)) {
      fail('api_key_env', 'must name an environment variable');
    } else {
      const value = env[fields.api_key_env]?.trim();
      if (!value) fail('api_key_env', `names ${fields.api_key_env}, which is not set`);
      else if (CONTROL.test(value)) fail('api_key_env', `names ${fields.api_key_env}, which holds control characters`);
      else apiKey = value;
    }
  }
  const integer = (field: string, fallback: number, min: number, max: number): number => {
    const value = fields[field];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      fail(field, `must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const path = (field: string, fallback: string | null, placeholder?: string): string | null => {
    const value = fields[field];
    if (value === undefined) return fallback;
    const filled = typeof value === 'string' && placeholder ? value.replaceAll(placeholder, 'x') : value;
    if (typeof value !== 'string' || typeof filled !== 'string' || !PATH.test(filled)) {
      fail(field, `must be a URL path starting with "/"${placeholder ? ` (${placeholder} allowed)` : ''}`);
      return fallback;
    }
    return value;
  };
  const server: LlmServerConfig = {
    name: name ?? '',
    url,
    apiKey,
    maxInFlight: integer('max_in_flight', 0, 0, 1_000_000),
    weight: integer('weight', 1, 1, 100),
    forwardPath: path('forward_path', defaults.forwardPath) ?? defaults.forwardPath,
    cancelPath: path('cancel_path', defaults.cancelPath, '{job_id}'),
    healthPath: path('health_path', null),
  };
  return name !== null && url !== null ? server : null;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}
