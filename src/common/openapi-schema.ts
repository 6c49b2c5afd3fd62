import { ApiProperty } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';

/** Marks a property whose value is any JSON value (null included); see describeAnyJson. */
const ANY_JSON = 'x-any-json';
type Schema = Record<string, unknown>;

/**
 * Documents a free-form property as any JSON value. The Swagger plugin would call an `unknown` field an object;
 * an empty schema (plus description and example) is what JSON Schema calls "any value".
 */
export function ApiAnyJson(required = true): PropertyDecorator {
  return ApiProperty({ required, [ANY_JSON]: true } as Parameters<typeof ApiProperty>[0]);
}

/** The document as the code behaves: any-JSON properties untyped, and request bodies closed to unknown fields. */
export function tightenSchemas(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  for (const schema of Object.values(schemas)) {
    for (const property of Object.values((schema.properties ?? {}) as Record<string, Schema>)) {
      if (!property[ANY_JSON]) continue;
      for (const key of [ANY_JSON, 'type', 'additionalProperties', 'items']) delete property[key];
    }
  }
  const closed = new Set<string>();
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations) as {
      requestBody?: { content?: Record<string, { schema?: Schema }> };
    }[]) {
      const schema = operation?.requestBody?.content?.['application/json']?.schema;
      if (schema) closeObjects(schema, schemas, closed);
    }
  }
}

/** The request pipe refuses unknown fields at every level of a DTO: say `additionalProperties: false` there. */
function closeObjects(schema: Schema, schemas: Record<string, Schema>, closed: Set<string>): void {
  const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop()! : null;
  if (ref) {
    if (closed.has(ref) || !schemas[ref]) return;
    closed.add(ref);
    return closeObjects(schemas[ref], schemas, closed);
  }
  if (schema.items) closeObjects(schema.items as Schema, schemas, closed);
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    for (const part of (schema[key] ?? []) as Schema[]) closeObjects(part, schemas, closed);
  }
  if (schema.type !== 'object' || !schema.properties) return;
  schema.additionalProperties = false;
  for (const property of Object.values(schema.properties as Record<string, Schema>))
    closeObjects(property, schemas, closed);
}
