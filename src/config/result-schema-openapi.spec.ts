import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ResultSchema } from './result-schema';
import { publishResultSchema, toOpenApiSchema } from './result-schema-openapi';

describe('publishing RESULT_SCHEMA in the OpenAPI document', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'result-openapi-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function load(schema: object): ResultSchema {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(schema));
    return ResultSchema.load(file);
  }

  /** The published copy, compiled the way a 3.1 tool reads it: inside a document, references resolved from there. */
  function publishedValidator(schema: ResultSchema) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi', components: { schemas: { ReviewResult: toOpenApiSchema(schema) } } });
    return ajv.compile({ $ref: 'openapi#/components/schemas/ReviewResult' });
  }

  function expectSameVerdicts(schema: ResultSchema, samples: unknown[]): void {
    const published = publishedValidator(schema);
    for (const sample of samples)
      expect([sample, published(sample)]).toEqual([sample, schema.problemsOf(sample).length === 0]);
  }

  it('drops $schema and $id and rebases references onto the component', () => {
    const schema = load({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://grading.example/review.json',
      type: 'object',
      required: ['score'],
      properties: {
        score: { $ref: '#/$defs/unit' },
        again: { $ref: 'review.json#/$defs/unit' },
        parts: { type: 'array', items: { $ref: '#' } },
      },
      $defs: { unit: { type: 'number', minimum: 0, maximum: 1 } },
    });
    const published = toOpenApiSchema(schema);
    expect(published.$schema).toBeUndefined();
    expect(published.$id).toBeUndefined();
    expect(published.properties).toMatchObject({
      score: { $ref: '#/components/schemas/ReviewResult/$defs/unit' },
      again: { $ref: '#/components/schemas/ReviewResult/$defs/unit' },
      parts: { items: { $ref: '#/components/schemas/ReviewResult' } },
    });
    expectSameVerdicts(schema, [
      { score: 0.5 },
      { score: 2 },
      { score: 1, parts: [{ score: 0 }] },
      { score: 1, parts: [{}] },
      null,
    ]);
  });

  it('converts a draft-07 schema to 2020-12 and keeps its meaning', () => {
    const schema = load({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false },
        grade: { $ref: '#/definitions/grade', description: 'a sibling', maximum: 4 },
      },
      dependencies: { bonus: ['grade'], penalty: { required: ['reason'] } },
      definitions: { grade: { type: 'integer', minimum: 1, maximum: 5 } },
    });
    const published = toOpenApiSchema(schema) as any;
    expect(published.properties.pair).toEqual({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'number' }],
      items: false,
    });
    // ajv applies a $ref's siblings in draft-07 too: the published copy keeps them, so it says what the relay checks.
    expect(published.properties.grade).toEqual({
      $ref: '#/components/schemas/ReviewResult/definitions/grade',
      description: 'a sibling',
      maximum: 4,
    });
    expect(published.dependentRequired).toEqual({ bonus: ['grade'] });
    expect(published.dependentSchemas).toEqual({ penalty: { required: ['reason'] } });
    expectSameVerdicts(schema, [
      { pair: ['a', 1] },
      { pair: ['a', 1, 2] },
      { pair: [1, 'a'] },
      { grade: 3 },
      { grade: 5 },
      { bonus: 1 },
      { bonus: 1, grade: 2 },
      { penalty: 1 },
      { penalty: 1, reason: 'late' },
    ]);
  });

  it('copies data keywords untouched, prototype-named keys included', () => {
    const schema = load(
      JSON.parse(
        '{"type":"object","properties":{"__proto__":{"type":"string"},"constructor":{"const":{"$ref":"#/x"}}},"default":{"$ref":"#"}}',
      ),
    );
    const published = toOpenApiSchema(schema) as any;
    expect(Object.hasOwn(published.properties, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(published.properties)).toBe(Object.prototype);
    expect(published.properties.constructor.const).toEqual({ $ref: '#/x' });
    expect(published.default).toEqual({ $ref: '#' });
  });

  it('types result in the job, the delivery and the callback body', () => {
    const anyJson = () => ({ properties: { result: { description: 'any JSON value' } } });
    const document = {
      openapi: '3.1.0',
      components: {
        schemas: {
          ReviewDto: anyJson(),
          DeliveryPayloadDto: anyJson(),
          LlmCallbackDto: anyJson(),
          SimulateLlmDto: anyJson(),
        },
      },
    } as unknown as OpenAPIObject;
    publishResultSchema(document, load({ type: 'object', properties: { score: { type: 'number' } } }));
    const schemas = document.components!.schemas as any;
    expect(schemas.ReviewResult).toMatchObject({ type: 'object', description: expect.any(String) });
    const ref = { $ref: '#/components/schemas/ReviewResult' };
    expect(schemas.ReviewDto.properties.result).toMatchObject({ anyOf: [ref, { type: 'null' }] });
    expect(schemas.DeliveryPayloadDto.properties.result).toMatchObject({ anyOf: [ref, { type: 'null' }] });
    expect(schemas.LlmCallbackDto.properties.result).toMatchObject({
      ...ref,
      description: expect.stringContaining('invalid_result'),
    });
    expect(schemas.SimulateLlmDto.properties.result).toMatchObject(ref);
  });
});
