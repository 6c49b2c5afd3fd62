import type { OpenAPIObject } from '@nestjs/swagger';
import type { ResultSchema } from './result-schema';

export const RESULT_SCHEMA_NAME = 'ReviewResult';
const POINTER = `#/components/schemas/${RESULT_SCHEMA_NAME}`;

type Schema = Record<string, unknown>;

/** Keywords whose value is a schema (or, for draft-07's tuple `items`, a list of schemas). */
const SCHEMA_VALUED = [
  'not',
  'if',
  'then',
  'else',
  'contains',
  'items',
  'additionalItems',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/**
 * RESULT_SCHEMA as a component of the OpenAPI 3.1 document (whose dialect is 2020-12), referenced as the type of
 * `result` wherever it appears. Without RESULT_SCHEMA the document is left as it is (result: any JSON value).
 */
export function publishResultSchema(document: OpenAPIObject, resultSchema: ResultSchema): void {
  const schemas = (document.components!.schemas ??= {}) as Record<string, Schema>;
  const published = toOpenApiSchema(resultSchema);
  schemas[RESULT_SCHEMA_NAME] =
    'description' in published
      ? published
      : { description: "The LLM's review, as RESULT_SCHEMA describes it", ...published };
  const ref = { $ref: POINTER };
  const orNull = { anyOf: [ref, { type: 'null' }] };
  const known =
    'null until the outcome is known; with ok false, null or whatever the LLM sent with its failure report (not checked)';
  setResult(
    schemas.ReviewDto,
    orNull,
    `The LLM's result, which matched ${RESULT_SCHEMA_NAME} when ok is true; ${known}.`,
  );
  setResult(
    schemas.DeliveryPayloadDto,
    orNull,
    `The LLM's result, which matched ${RESULT_SCHEMA_NAME} when ok is true; with ok false, null or whatever the LLM sent with its failure report (not checked).`,
  );
  const checked = `Required when ok is true, and checked against ${RESULT_SCHEMA_NAME}: a result that does not match is refused with 422 invalid_result. Not checked when ok is false.`;
  setResult(schemas.LlmCallbackDto, ref, checked);
  setResult(
    schemas.SimulateLlmDto,
    ref,
    `${checked} Omitted with ok true, a generated review is fed, which RESULT_SCHEMA may refuse.`,
  );
}

function setResult(owner: Schema | undefined, type: Schema, description: string): void {
  const properties = owner?.properties as Record<string, Schema> | undefined;
  if (properties?.result) properties.result = { ...type, description };
}

/**
 * A copy that reads the same inside the document: `$schema` and `$id` go (the document sets the dialect, and an `$id`
 * would make tools resolve the schema's references against it), references into the schema are rebased onto the
 * component, and a draft-07 schema gets the light conversion to 2020-12 (tuple `items` → `prefixItems`,
 * `additionalItems` → `items`, `dependencies` → `dependentRequired`/`dependentSchemas`; a `$ref`'s siblings stay, as ajv applies them in both dialects).
 * Values that are data (`enum`, `const`, `default`, `examples`) are copied untouched.
 */
export function toOpenApiSchema(resultSchema: ResultSchema): Schema {
  const { document, dialect } = resultSchema;
  const id = typeof document.$id === 'string' ? document.$id : null;
  const convert = (node: unknown, root = false): unknown => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return node; // true / false schemas
    const entries: [string, unknown][] = [];
    for (const [key, value] of Object.entries(node)) {
      if (root && (key === '$schema' || key === '$id')) continue;
      entries.push([key, convertKeyword(key, value, id, convert)]);
    }
    // fromEntries defines own properties: a property named "__proto__" stays a property.
    const schema: Schema = Object.fromEntries(entries);
    return dialect === 'draft-07' ? toModern(schema) : schema;
  };
  return convert(document, true) as Schema;
}

function convertKeyword(key: string, value: unknown, id: string | null, convert: (node: unknown) => unknown): unknown {
  if (key === '$ref' && typeof value === 'string') return rebase(value, id);
  if (SCHEMA_VALUED.includes(key)) return Array.isArray(value) ? value.map((item) => convert(item)) : convert(value);
  if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) return value.map((item) => convert(item));
  if ((SCHEMA_MAPS.includes(key) || key === 'dependencies') && typeof value === 'object' && value !== null) {
    // `dependencies` mixes schemas and lists of property names; lists pass through convert unchanged.
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, convert(item)]));
  }
  return value;
}

/** A reference into the schema itself (`#…`, or through its own `$id`) now points into the component. */
function rebase(ref: string, id: string | null): string {
  let fragment: string | null = ref.startsWith('#') ? ref : null;
  if (fragment === null && id !== null) {
    try {
      const target = new URL(ref, id);
      if (target.href.split('#')[0] === id.split('#')[0]) fragment = target.hash || '#';
    } catch {
      // Not a URL relative to the $id: left as written.
    }
  }
  if (fragment === '#' || fragment?.startsWith('#/')) return POINTER + fragment.slice(1);
  return ref;
}

function toModern(schema: Schema): Schema {
  const modern = { ...schema };
  if (Array.isArray(modern.items)) {
    modern.prefixItems = modern.items;
    if ('additionalItems' in modern) modern.items = modern.additionalItems;
    else delete modern.items;
  }
  delete modern.additionalItems;
  const dependencies = modern.dependencies as Record<string, unknown> | undefined;
  if (dependencies && typeof dependencies === 'object') {
    const lists = Object.entries(dependencies).filter(([, value]) => Array.isArray(value));
    const schemas = Object.entries(dependencies).filter(([, value]) => !Array.isArray(value));
    if (lists.length > 0) modern.dependentRequired = Object.fromEntries(lists);
    if (schemas.length > 0) modern.dependentSchemas = Object.fromEntries(schemas);
    delete modern.dependencies;
  }
  return modern;
}
