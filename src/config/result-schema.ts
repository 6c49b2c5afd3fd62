import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ConfigReader } from './config-reader';

export type ResultSchemaDialect = 'draft-07' | '2020-12';

const DIALECTS: Record<string, ResultSchemaDialect> = {
  'http://json-schema.org/draft-07/schema': 'draft-07',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};
/** OpenAPI 3.1's own annotation keywords, allowed next to JSON Schema's; any other unknown keyword is refused. */
const OPENAPI_KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs'];
export const MAX_RESULT_PROBLEMS = 10;
const MAX_PROBLEM_LENGTH = 200;

/**
 * The contract a successful result must meet (RESULT_SCHEMA). Validation only checks: no defaults filled in, no
 * types coerced, no properties removed, so the result the web service gets is the one the LLM sent.
 */
export class ResultSchema {
  private constructor(
    readonly file: string,
    readonly dialect: ResultSchemaDialect,
    /** The schema as read from the file (never changed: the OpenAPI document publishes a converted copy). */
    readonly document: Record<string, unknown>,
    private readonly validate: ValidateFunction,
  ) {}

  /** Reads and compiles the file; throws an Error whose message says what is wrong with it. */
  static load(file: string): ResultSchema {
    const absolute = path.resolve(file);
    let text: string;
    try {
      text = fs.readFileSync(absolute, 'utf8');
    } catch (error) {
      throw new Error(
        `names a file that cannot be read (${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { cause: error },
      );
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new Error(`is not a JSON file (${absolute}: ${(error as Error).message})`, { cause: error });
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new Error(
        `must hold a JSON Schema object (${absolute} holds ${Array.isArray(document) ? 'an array' : String(document)})`,
      );
    }
    const schema = document as Record<string, unknown>;
    const dialect = dialectOf(schema.$schema, absolute);
    try {
      return new ResultSchema(absolute, dialect, schema, compile(schema, dialect));
    } catch (error) {
      throw new Error(`is not a valid ${dialect} JSON Schema (${absolute}: ${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  /** What is wrong with a result (at most MAX_RESULT_PROBLEMS short lines); empty when it matches. */
  problemsOf(result: unknown): string[] {
    if (result === undefined) return ['result is missing'];
    if (this.validate(result)) return [];
    const errors = this.validate.errors ?? [];
    const problems = errors.slice(0, MAX_RESULT_PROBLEMS).map(describeError);
    if (errors.length > MAX_RESULT_PROBLEMS)
      problems[MAX_RESULT_PROBLEMS - 1] = `… and ${errors.length - MAX_RESULT_PROBLEMS + 1} more problems`;
    return problems;
  }
}

/** RESULT_SCHEMA: null when unset; a problem with the file is reported like any other bad variable. */
export function readResultSchema(r: ConfigReader): ResultSchema | null {
  const file = r.optionalString('RESULT_SCHEMA');
  if (file === null) return null;
  try {
    return ResultSchema.load(file);
  } catch (error) {
    r.fail('RESULT_SCHEMA', (error as Error).message);
    return null;
  }
}

/** The `$schema` picks the dialect; without one, 2020-12 (the dialect of OpenAPI 3.1, where the schema is published). */
function dialectOf(declared: unknown, file: string): ResultSchemaDialect {
  if (declared === undefined) return '2020-12';
  const dialect = typeof declared === 'string' ? DIALECTS[declared.replace(/#$/, '')] : undefined;
  if (!dialect)
    throw new Error(`declares an unsupported $schema ${JSON.stringify(declared)} (${file}); use draft-07 or 2020-12`);
  return dialect;
}

function compile(schema: Record<string, unknown>, dialect: ResultSchemaDialect): ValidateFunction {
  const options: Options = {
    allErrors: true,
    // Checking only: the data is never changed.
    useDefaults: false,
    coerceTypes: false,
    removeAdditional: false,
    // A misspelt keyword ("requried") or an unknown format would silently check nothing: refuse them at start.
    strictSchema: true,
    // Advice about schema style, not errors: not worth refusing to start over, nor a line on the console.
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: false,
  };
  const ajv = dialect === 'draft-07' ? new Ajv(options) : new Ajv2020(options);
  addFormats(ajv);
  ajv.addVocabulary([...OPENAPI_KEYWORDS, ...extensionKeywords(schema)]);
  return ajv.compile(schema);
}

/** `x-…` extension keywords, as OpenAPI allows them: annotations that check nothing. */
function extensionKeywords(value: unknown, found = new Set<string>()): string[] {
  if (Array.isArray(value)) value.forEach((item) => extensionKeywords(item, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('x-')) found.add(key);
      extensionKeywords(item, found);
    }
  }
  return [...found];
}

/** `result/score must be <= 1`: where (a JSON Pointer inside the result) and what, on one short line. */
function describeError(error: ErrorObject): string {
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  const line = `result${error.instancePath} ${error.message ?? 'is invalid'}${extra}`;
  return line.length > MAX_PROBLEM_LENGTH ? `${line.slice(0, MAX_PROBLEM_LENGTH - 1)}…` : line;
}
