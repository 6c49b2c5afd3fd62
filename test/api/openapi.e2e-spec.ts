import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { tempDir } from '../support/relay';
import { RelayProcess } from '../support/relay-process';

/** The document as integrators get it: from the built relay, where the Swagger CLI plugin has run. */
describe('the OpenAPI document (/docs-json of the built relay)', () => {
  const dir = tempDir('relay-openapi-');
  let relay: RelayProcess;
  let doc: any;

  beforeAll(async () => {
    relay = await RelayProcess.start({ DATABASE_URL: `sqlite:///${dir}/relay.db` });
    doc = await (await fetch(`${relay.url}/docs-json`)).json();
  });

  afterAll(async () => {
    await relay.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3.1 document with version, licence, servers and the API-key schemes', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'LLM Relay', version: expect.any(String), license: { name: 'MIT' } });
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.components.securitySchemes['api-key']).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
    });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('passes redocly lint with the recommended rules', () => {
    fs.writeFileSync(`${dir}/openapi.json`, JSON.stringify(doc));
    const cli = path.resolve(__dirname, '../../node_modules/.bin/redocly');
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
    const run = () =>
      execFileSync(cli, ['lint', `${dir}/openapi.json`, '--extends', 'recommended', '--format', 'summary'], {
        env,
        stdio: 'pipe',
      });
    expect(() => run()).not.toThrow();
    expect(run().toString()).not.toMatch(/^error/m);
  });

  it('gives every operation a summary and documents its error answers with the error body', () => {
    const expected: Record<string, string[]> = {
      'post /v1/reviews': ['202', '400', '401', '403', '409', '413', '415', '422', '429', '503'],
      'get /v1/reviews': ['200', '400', '401', '403', '503'],
      'get /v1/reviews/{job_id}': ['200', '401', '403', '404', '503'],
      'get /v1/reviews/{job_id}/attempts': ['200', '401', '403', '404', '503'],
      'post /v1/reviews/{job_id}/redeliver': ['202', '401', '403', '404', '409', '503'],
      'post /v1/clients': ['201', '400', '401', '403', '409', '503'],
      'get /v1/clients': ['200', '400', '401', '403', '503'],
      'get /v1/clients/{client_id}': ['200', '401', '403', '404', '503'],
      'patch /v1/clients/{client_id}': ['200', '400', '401', '403', '404', '503'],
      'delete /v1/clients/{client_id}/api-keys/{key_id}': ['204', '401', '403', '404', '409', '503'],
      'post /v1/clients/{client_id}/signing-secret/rotate': ['200', '400', '401', '403', '404', '409', '503'],
      'post /v1/llm/callback/{job_id}': ['200', '400', '401', '404', '409', '413', '415', '422', '503'],
    };
    for (const [path, operations] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        expect(`${method} ${path}: ${operation.summary}`).toMatch(/: \S/);
      }
    }
    for (const [key, codes] of Object.entries(expected)) {
      const [method, path] = key.split(' ');
      const responses = doc.paths[path][method].responses;
      expect(Object.keys(responses).sort()).toEqual(codes.sort());
      for (const code of codes.filter((c) => c >= '400')) {
        expect(responses[code].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorBodyDto');
      }
    }
    expect(doc.paths['/v1/reviews'].post.security).toEqual(expect.arrayContaining([{ 'api-key': [] }]));
  });

  it('describes request and response bodies with examples', () => {
    const create = doc.components.schemas.CreateReviewDto;
    expect(create.required).toEqual(expect.arrayContaining(['submission_id', 'file_refs', 'webhook_url']));
    for (const field of ['submission_id', 'webhook_url', 'metadata']) {
      expect(create.properties[field]).toMatchObject({ description: expect.any(String), example: expect.anything() });
    }
    expect(doc.components.schemas.ReviewAcceptedDto.properties.job_id.example).toMatch(/^job_/);
    expect(doc.components.schemas.LlmCallbackDto.properties.ok).toMatchObject({ type: 'boolean', example: true });
  });

  it('describes the delivery to the web service as a webhook with its signature headers', () => {
    const delivery = doc.webhooks.reviewResult.post;
    expect(delivery.parameters.map((p: any) => p.name)).toEqual([
      'X-Signature',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    expect(delivery.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/DeliveryPayloadDto',
    );
    expect(Object.keys(doc.components.schemas.DeliveryPayloadDto.properties)).toEqual(
      expect.arrayContaining(['job_id', 'submission_id', 'ok', 'result', 'error']),
    );
  });

  it('says what the code accepts and answers: free-form results, optional paging, the callback credential', () => {
    const schemas = doc.components.schemas;
    // Any JSON value, null included: no type at all.
    for (const name of ['ReviewDto', 'DeliveryPayloadDto', 'LlmCallbackDto', 'SimulateLlmDto']) {
      expect(schemas[name].properties.result.type).toBeUndefined();
    }
    expect(schemas.ReviewDto.required).toContain('result');
    expect(schemas.CreateReviewDto.properties.metadata.type).toEqual(['object', 'null']);

    const list = Object.fromEntries(doc.paths['/v1/reviews'].get.parameters.map((p: any) => [p.name, p]));
    expect(list.limit).toMatchObject({
      required: false,
      schema: { type: 'integer', default: 20, minimum: 1, maximum: 100 },
    });
    expect(list.offset).toMatchObject({ required: false, schema: { type: 'integer', default: 0 } });

    const callback = doc.paths['/v1/llm/callback/{job_id}'].post;
    expect(callback.parameters.map((p: any) => p.name)).toEqual(['job_id']);
    expect(callback.security).toEqual(expect.arrayContaining([{ 'callback-token': [] }, { 'callback-bearer': [] }]));
    expect(doc.components.securitySchemes['callback-token']).toMatchObject({
      type: 'apiKey',
      in: 'query',
      name: 'token',
    });
    expect(doc.components.securitySchemes['callback-bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('closes request bodies to unknown fields and states their limits', () => {
    const schemas = doc.components.schemas;
    for (const name of ['CreateReviewDto', 'FileRefDto', 'LlmCallbackDto', 'LlmErrorDto', 'SimulateLlmDto']) {
      expect([name, schemas[name].additionalProperties]).toEqual([name, false]);
    }
    for (const url of [schemas.CreateReviewDto.properties.webhook_url, schemas.FileRefDto.properties.url]) {
      expect(url).toMatchObject({
        type: 'string',
        format: 'uri',
        maxLength: 2048,
        description: expect.stringMatching(/http or https/),
      });
    }
    expect(schemas.CreateReviewDto.properties.file_refs).toMatchObject({ minItems: 1, maxItems: 100 });
    expect(schemas.CreateReviewDto.properties.metadata.description).toMatch(/16 KiB/);
    const idempotency = doc.paths['/v1/reviews'].post.parameters.find((p: any) => p.name === 'idempotency-key');
    expect(new RegExp(idempotency.schema.pattern).test('order-42')).toBe(true);
    expect(new RegExp(idempotency.schema.pattern).test('two words')).toBe(false);

    const simulate = doc.paths['/simulate-llm/{job_id}'].post;
    expect(simulate.requestBody.required).toBe(false);
    expect(Object.keys(simulate.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '409', '413', '415', '503']),
    );
  });
});
