import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { canonicalJson } from '../../src/common/canonical-json';
import { closeAfterEach } from '../support/cleanup';
import { eventually, postJson, type RecordedRequest } from '../support/fake-server';
import { type LoopbackStack, startLoopbackStack, useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { runUntilExit } from '../support/relay-process';

const REVIEW_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://grading.example/schemas/review.json',
  title: 'Review',
  type: 'object',
  required: ['score', 'feedback'],
  properties: {
    score: { $ref: '#/$defs/unit' },
    feedback: { type: 'string', minLength: 1 },
    reviewed_at: { type: 'string', format: 'date-time' },
  },
  $defs: { unit: { type: 'number', minimum: 0, maximum: 1 } },
};

/** A valid review whose keys include names of Object.prototype's members, as free-form-json.e2e-spec.ts does. */
const CORRECTED =
  '{"score":0.8,"feedback":"Clear argument","__proto__":{"x":1},"constructor":"C","notes":{"toString":"t","valueOf":[1,2]}}';

describe('the result contract (RESULT_SCHEMA)', () => {
  const dir = tempDir('relay-result-contract-');
  const schemaFile = path.join(dir, 'review.schema.json');
  fs.writeFileSync(schemaFile, JSON.stringify(REVIEW_SCHEMA));
  const later = closeAfterEach();
  const stack = useLoopbackStack({ env: { RESULT_SCHEMA: schemaFile } });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A job and its forward, which carries the callback URL. */
  async function submit(on: LoopbackStack = stack): Promise<{ jobId: string; forward: RecordedRequest }> {
    const jobId = await on.client.submit();
    return { jobId, forward: await eventually(() => on.llm.for(jobId)[0], 'the forward') };
  }

  function callBack(forward: RecordedRequest, body: string): Promise<{ status: number; json: any }> {
    return fetch(forward.json.callback_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then(async (response) => ({
      status: response.status,
      json: await response.json(),
    }));
  }

  it('refuses a result that breaks the schema with 422 and the reasons, records it, then delivers a corrected one as sent', async () => {
    const { jobId, forward } = await submit();
    const refused = await callBack(forward, '{"ok":true,"result":{"score":1.5,"reviewed_at":"yesterday"}}');
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      statusCode: 422,
      code: 'invalid_result',
      message: expect.stringContaining('corrected result'),
    });
    expect(refused.json.details).toEqual([
      "result must have required property 'feedback'",
      'result/score must be <= 1',
      'result/reviewed_at must match format "date-time"',
    ]);
    const missing = await callBack(forward, '{"ok":true}');
    expect(missing).toMatchObject({ status: 422, json: { code: 'invalid_result', details: ['result is missing'] } });

    const attempts = await stack.client.attempts(jobId);
    const rejections = attempts.filter((a: any) => a.leg === 'callback');
    expect(rejections).toEqual([
      expect.objectContaining({
        attempt_no: 1,
        round: null,
        status_code: 422,
        outcome: 'rejected',
        target: `/v1/llm/callback/${jobId}`,
      }),
      expect.objectContaining({
        attempt_no: 2,
        round: null,
        status_code: 422,
        outcome: 'rejected',
        error: 'result is missing',
      }),
    ]);
    expect(rejections[0].error).toContain('result/score must be <= 1');
    expect(JSON.stringify(attempts)).not.toContain(forward.json.callback_token);
    expect((await stack.relay.http.get(`/v1/reviews/${jobId}`).expect(200)).body).toMatchObject({
      ok: null,
      result: null,
    });
    expect(stack.web.for(jobId)).toHaveLength(0);

    const accepted = await callBack(forward, `{"ok":true,"result":${CORRECTED}}`);
    expect(accepted).toEqual({ status: 200, json: { job_id: jobId, status: 'accepted' } });
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    expect(delivery.json).toMatchObject({ ok: true });
    expect(canonicalJson(delivery.json.result)).toBe(canonicalJson(JSON.parse(CORRECTED)));
    expect(Object.keys(delivery.json.result)).toEqual(Object.keys(JSON.parse(CORRECTED)));

    // Once the outcome is known, callbacks are repeats as before: no more rejections recorded.
    expect(await callBack(forward, `{"ok":true,"result":${CORRECTED}}`)).toMatchObject({
      status: 200,
      json: { status: 'duplicate' },
    });
    expect(await callBack(forward, '{"ok":true,"result":{"score":7}}')).toMatchObject({
      status: 409,
      json: { code: 'result_already_recorded' },
    });
    const after = await stack.client.attempts(jobId);
    expect(after.filter((a: any) => a.leg === 'callback')).toHaveLength(2);
    const metrics = await stack.client.metrics();
    expect(metrics).toMatch(/^relay_callbacks_total\{result="rejected"\} 2$/m);
  });

  it('checks the credential first, and does not check ok:false callbacks', async () => {
    const { jobId, forward } = await submit();
    const forged = await postJson(`${stack.relay.url}/v1/llm/callback/${jobId}?token=forged`, {
      ok: true,
      result: { score: 9 },
    });
    expect(forged).toMatchObject({ status: 401, json: { code: 'invalid_callback_token' } });
    const failed = await callBack(
      forward,
      '{"ok":false,"result":{"partial":"anything"},"error":{"code":"model_overloaded"}}',
    );
    expect(failed).toMatchObject({ status: 200, json: { status: 'accepted' } });
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the failure delivery');
    expect(delivery.json).toMatchObject({
      ok: false,
      result: { partial: 'anything' },
      error: { code: 'llm_error', message: 'model_overloaded: The LLM reported a failure' },
    });
    const attempts = await stack.client.attempts(jobId);
    expect(attempts.filter((a: any) => a.leg === 'callback')).toEqual([]);
  });

  it('holds the simulation endpoint to the same contract', async () => {
    const { jobId } = await submit();
    const refused = await stack.relay.http
      .post(`/simulate-llm/${jobId}`)
      .send({ ok: true, result: { score: 'high' } })
      .expect(422);
    expect(refused.body).toMatchObject({
      code: 'invalid_result',
      details: ['result/score must be number', "result must have required property 'feedback'"].sort(),
    });
    await stack.relay.http
      .post(`/simulate-llm/${jobId}`)
      .send({ ok: true, result: { score: 1, feedback: 'ok' } })
      .expect(200, { job_id: jobId, status: 'accepted' });
    expect((await eventually(() => stack.web.for(jobId)[0], 'the delivery')).json.result).toEqual({
      score: 1,
      feedback: 'ok',
    });
  });

  it('tells the web service invalid_result, with what was wrong, when no valid result came by the deadline', async () => {
    const short = await startLoopbackStack({ env: { RESULT_SCHEMA: schemaFile, LLM_CALLBACK_TIMEOUT_SECONDS: '2' } });
    later(() => short.close());
    await expectInvalidResultAtDeadline(short);
  });

  (postgresReachable('the result contract on PostgreSQL') ? it : it.skip)('works the same on PostgreSQL', async () => {
    const database = await createTestDatabase();
    later(() => database.drop());
    const short = await startLoopbackStack({
      env: { RESULT_SCHEMA: schemaFile, LLM_CALLBACK_TIMEOUT_SECONDS: '2', DATABASE_URL: database.url },
    });
    later(() => short.close());
    await expectInvalidResultAtDeadline(short);
  });

  async function expectInvalidResultAtDeadline(short: LoopbackStack): Promise<void> {
    // The deadline (2 s from the forward) leaves room for both refused callbacks on a loaded machine (0.5 s once ran
    // out before the second).
    const silent = await submit(short);
    const { jobId, forward } = await submit(short);
    expect((await callBack(forward, '{"ok":true,"result":{"score":-1,"feedback":"x"}}')).status).toBe(422);
    expect((await callBack(forward, '{"ok":true,"result":{"score":"-1","feedback":"x"}}')).status).toBe(422);
    const attempts = await short.client.attempts(jobId);
    expect(attempts.filter((a: any) => a.leg === 'callback').map((a: any) => [a.attempt_no, a.error])).toEqual([
      [1, 'result/score must be >= 0'],
      [2, 'result/score must be number'],
    ]);
    const delivery = await eventually(() => short.web.for(jobId)[0], 'the invalid_result delivery');
    expect(delivery.json).toMatchObject({ job_id: jobId, ok: false, result: null, error: { code: 'invalid_result' } });
    expect(delivery.json.error.message).toMatch(
      /^No valid result came before the callback deadline; .*: result\/score must be number$/,
    );
    const job = (await short.relay.http.get(`/v1/reviews/${jobId}`).expect(200)).body;
    expect(job.error).toEqual(delivery.json.error);
    // A job whose LLM never called back still times out as before.
    expect((await eventually(() => short.web.for(silent.jobId)[0], 'the timeout delivery')).json.error.code).toBe(
      'llm_timeout',
    );
    expect(await callBack(forward, '{"ok":true,"result":{"score":1,"feedback":"late"}}')).toMatchObject({
      status: 409,
    });
  }

  // The document of the built relay, where the Swagger CLI plugin has run (as integrators get it).
  it('publishes the schema in the OpenAPI document as the type of result', async () => {
    const relay = await stack.startProcess({ DATABASE_URL: `sqlite:///${dir}/built.db` });
    later(() => relay.kill());
    const doc: any = await (await fetch(`${relay.url}/docs-json`)).json();
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
    const schemas = doc.components.schemas;
    const ref = '#/components/schemas/ReviewResult';
    expect(schemas.ReviewResult).toMatchObject({ title: 'Review', type: 'object', required: ['score', 'feedback'] });
    expect(schemas.ReviewResult.$id).toBeUndefined();
    expect(schemas.ReviewResult.$schema).toBeUndefined();
    expect(schemas.ReviewResult.properties.score).toEqual({ $ref: `${ref}/$defs/unit` });
    expect(schemas.ReviewDto.properties.result.anyOf).toEqual([{ $ref: ref }, { type: 'null' }]);
    expect(schemas.DeliveryPayloadDto.properties.result.anyOf).toEqual([{ $ref: ref }, { type: 'null' }]);
    expect(schemas.LlmCallbackDto.properties.result.$ref).toBe(ref);
    expect(doc.webhooks.reviewResult.post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/DeliveryPayloadDto',
    );
    expect(doc.paths['/v1/llm/callback/{job_id}'].post.responses['422']).toBeDefined();
    fs.writeFileSync(`${dir}/openapi.json`, JSON.stringify(doc));
    const cli = path.resolve(__dirname, '../../node_modules/.bin/redocly');
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
    const lint = execFileSync(cli, ['lint', `${dir}/openapi.json`, '--extends', 'recommended', '--format', 'summary'], {
      env,
      stdio: 'pipe',
    });
    expect(lint.toString()).not.toMatch(/^error/m);

    // A job with its result, as the built relay answers it, matches the document's ReviewDto, ReviewResult included.
    const built = stack.clientFor(relay);
    const jobId = await built.submit();
    expect(
      (await built.post(`/simulate-llm/${jobId}`, { ok: true, result: { score: 0.5, feedback: 'fine' } })).status,
    ).toBe(200);
    const job: any = await built.job(jobId);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi', components: doc.components });
    const validReview = ajv.compile({ $ref: 'openapi#/components/schemas/ReviewDto' });
    expect(job.result).toEqual({ score: 0.5, feedback: 'fine' });
    expect(validReview(job)).toBe(true);
    expect(validReview({ ...job, result: { score: 2, feedback: 'x' } })).toBe(false);
  });

  it('stops the start when the schema file is missing, not JSON or not a schema, naming RESULT_SCHEMA', async () => {
    const notJson = path.join(dir, 'not-json.json');
    fs.writeFileSync(notJson, '{"type": "object",');
    const notSchema = path.join(dir, 'not-schema.json');
    fs.writeFileSync(notSchema, JSON.stringify({ type: 'objekt' }));
    const cases: [string, RegExp][] = [
      [path.join(dir, 'absent.json'), /RESULT_SCHEMA names a file that cannot be read \(.*absent\.json: ENOENT\)/],
      [notJson, /RESULT_SCHEMA is not a JSON file \(.*not-json\.json/],
      [notSchema, /RESULT_SCHEMA is not a valid 2020-12 JSON Schema \(.*not-schema\.json/],
    ];
    for (const [file, message] of cases) {
      const { code, output } = await runUntilExit({ RESULT_SCHEMA: file, DATABASE_URL: `sqlite:///${dir}/never.db` });
      expect([file, code]).toEqual([file, 78]);
      expect(output).toMatch(message);
      expect(output).toMatch(/^Invalid configuration:/m);
    }
    expect(fs.existsSync(`${dir}/never.db`)).toBe(false);
  });
});
