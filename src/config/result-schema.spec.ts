import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './config-reader';
import { loadConfig } from './config';
import { ResultSchema } from './result-schema';

const REVIEW = {
  type: 'object',
  required: ['score', 'feedback'],
  properties: { score: { type: 'number', minimum: 0, maximum: 1 }, feedback: { type: 'string', minLength: 1 } },
};

describe('RESULT_SCHEMA', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'result-schema-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function file(name: string, content: unknown): string {
    const at = path.join(dir, name);
    fs.writeFileSync(at, typeof content === 'string' ? content : JSON.stringify(content));
    return at;
  }

  function problemOf(content: unknown): string {
    const at = content === null ? path.join(dir, 'absent.json') : file('schema.json', content);
    try {
      loadConfig({ RESULT_SCHEMA: at });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(1);
      return (error as ConfigError).problems[0];
    }
    throw new Error('the configuration was accepted');
  }

  it('is optional: without it any result is accepted', () => {
    expect(loadConfig({}).resultSchema).toBeNull();
  });

  it('picks the dialect from $schema, 2020-12 by default', () => {
    expect(ResultSchema.load(file('plain.json', REVIEW)).dialect).toBe('2020-12');
    expect(
      ResultSchema.load(file('07.json', { $schema: 'http://json-schema.org/draft-07/schema#', ...REVIEW })).dialect,
    ).toBe('draft-07');
    const modern = ResultSchema.load(
      file('2020.json', { $schema: 'https://json-schema.org/draft/2020-12/schema', ...REVIEW }),
    );
    expect(modern.dialect).toBe('2020-12');
    expect(loadConfig({ RESULT_SCHEMA: modern.file }).resultSchema?.file).toBe(modern.file);
  });

  it.each([
    ['a missing file', null, /^RESULT_SCHEMA names a file that cannot be read \(.*ENOENT\)$/],
    ['bad JSON', '{"type": ', /^RESULT_SCHEMA is not a JSON file \(/],
    ['an array', [], /^RESULT_SCHEMA must hold a JSON Schema object/],
    ['an invalid schema', { type: 'nope' }, /^RESULT_SCHEMA is not a valid 2020-12 JSON Schema \(.*type/],
    ['a misspelt keyword', { type: 'object', requried: ['score'] }, /unknown keyword: "requried"/],
    ['an unknown format', { type: 'string', format: 'colour' }, /unknown format "colour"/],
    ['an unresolvable $ref', { $ref: '#/$defs/missing' }, /can't resolve reference/],
    [
      'another dialect',
      { $schema: 'http://json-schema.org/draft-04/schema#' },
      /unsupported \$schema .*draft-04.*use draft-07 or 2020-12/,
    ],
  ])('stops the start on %s, naming RESULT_SCHEMA and the problem', (_what, content, expected) => {
    expect(problemOf(content)).toMatch(expected);
  });

  it('allows OpenAPI annotations and x- extensions next to JSON Schema keywords', () => {
    const annotated = { ...REVIEW, example: { score: 1, feedback: 'ok' }, 'x-owner': 'grading' };
    expect(ResultSchema.load(file('annotated.json', annotated)).problemsOf({ score: 1, feedback: 'ok' })).toEqual([]);
  });

  it('lists what is wrong, one short line per problem, with the path inside the result', () => {
    const schema = ResultSchema.load(file('review.json', { ...REVIEW, additionalProperties: false }));
    expect(schema.problemsOf({ score: 0.5, feedback: 'fine' })).toEqual([]);
    expect(schema.problemsOf({ score: 2, extra: true })).toEqual([
      "result must have required property 'feedback'",
      'result must NOT have additional properties (extra)',
      'result/score must be <= 1',
    ]);
    expect(schema.problemsOf(undefined)).toEqual(['result is missing']);
    expect(schema.problemsOf(null)).toEqual(['result must be object']);
  });

  it('caps the list and each line', () => {
    const many = ResultSchema.load(
      file('many.json', { type: 'array', items: { type: 'string', pattern: `^${'a'.repeat(300)}$` } }),
    );
    const problems = many.problemsOf(Array.from({ length: 25 }, () => 'b'));
    expect(problems).toHaveLength(10);
    expect(problems[9]).toBe('… and 16 more problems');
    for (const problem of problems) expect(problem.length).toBeLessThanOrEqual(200);
  });

  it('only checks: defaults are not filled in, types not coerced, unknown properties kept', () => {
    const schema = ResultSchema.load(
      file('defaults.json', {
        type: 'object',
        properties: { score: { type: 'number' }, note: { type: 'string', default: 'none' } },
        additionalProperties: true,
      }),
    );
    const result = JSON.parse('{"score":1,"__proto__":{"x":1},"constructor":"c"}');
    const before = JSON.stringify(result);
    expect(schema.problemsOf(result)).toEqual([]);
    expect(JSON.stringify(result)).toBe(before);
    expect(schema.problemsOf({ score: '1' })).toEqual(['result/score must be number']);
  });

  it('checks formats (ajv-formats) and follows internal references of both dialects', () => {
    const draft07 = ResultSchema.load(
      file('refs07.json', {
        $schema: 'http://json-schema.org/draft-07/schema#',
        definitions: { when: { type: 'string', format: 'date-time' } },
        properties: { at: { $ref: '#/definitions/when' } },
      }),
    );
    expect(draft07.problemsOf({ at: '2026-11-27T10:00:00Z' })).toEqual([]);
    expect(draft07.problemsOf({ at: 'yesterday' })).toEqual(['result/at must match format "date-time"']);
    const modern = ResultSchema.load(
      file('refs2020.json', { $defs: { mail: { type: 'string', format: 'email' } }, items: { $ref: '#/$defs/mail' } }),
    );
    expect(modern.problemsOf(['a@example.com', 'nope'])).toEqual(['result/1 must match format "email"']);
  });
});
