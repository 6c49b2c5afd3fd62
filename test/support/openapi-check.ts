import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Every answer an in-process relay gives during the suite is checked against the OpenAPI document of the built relay
 * (written by global-setup with scripts/openapi.js, since the Swagger CLI plugin only runs in the build): the
 * route must document the status, and a JSON body must match the declared schema. Mismatches fail the test that
 * caused them (see openapi-setup.ts), so the document and the code cannot drift apart.
 */
export const OPENAPI_FILE = path.resolve(__dirname, '../../.tmp/openapi.json');

interface Operation {
  method: string;
  pattern: RegExp;
  template: string;
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

const violations: string[] = [];
let operations: Operation[] | null = null;
let ajv: Ajv2020 | null = null;
const validators = new Map<string, ValidateFunction>();

/** Express middleware recording each response's status and body, checked once the response has finished. */
export function checkResponsesAgainstOpenApi(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const chunks: Buffer[] = [];
    const capture = (chunk: unknown, encoding?: unknown) => {
      if (typeof chunk === 'string')
        chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.write = ((...args: unknown[]) => (capture(args[0], args[1]), write(...args))) as Response['write'];
    res.end = ((...args: unknown[]) => (capture(args[0], args[1]), end(...args))) as Response['end'];
    res.on('finish', () => {
      const problem = checkResponse(
        req.method,
        req.originalUrl,
        res.statusCode,
        String(res.getHeader('content-type') ?? ''),
        Buffer.concat(chunks),
      );
      if (problem) violations.push(problem);
    });
    next();
  };
}

/** The violations recorded since the last call. */
export function takeOpenApiViolations(): string[] {
  return violations.splice(0, violations.length);
}

export function checkResponse(
  method: string,
  url: string,
  status: number,
  contentType: string,
  body: Buffer,
): string | null {
  const pathname = url.split('?')[0];
  const operation = loadOperations().find((op) => op.method === method.toLowerCase() && op.pattern.test(pathname));
  if (!operation) return null; // Undocumented on purpose (the built-in LLM's endpoint, static assets) or unknown.
  const where = `${method} ${pathname} → ${status}`;
  const declared =
    operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
  if (!declared) return `${where}: status not documented for ${method} ${operation.template}`;
  const jsonSchema = declared.content?.['application/json']?.schema;
  if (!jsonSchema)
    return body.length > 0 && /json/.test(contentType) && !declared.content
      ? `${where}: a JSON body where none is documented`
      : null;
  if (!/application\/json/.test(contentType))
    return `${where}: content-type ${contentType || '(none)'} where JSON is documented`;
  const validate = validatorFor(`${method} ${operation.template} ${status}`, jsonSchema);
  if (validate(JSON.parse(body.toString('utf8')))) return null;
  return `${where}: body does not match the schema: ${JSON.stringify(validate.errors?.slice(0, 3))} body=${body.toString('utf8').slice(0, 300)}`;
}

function loadOperations(): Operation[] {
  if (operations) return operations;
  const doc = JSON.parse(fs.readFileSync(OPENAPI_FILE, 'utf8'));
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'openapi', components: doc.components });
  operations = [];
  for (const [template, methods] of Object.entries<Record<string, Operation['responses'] & object>>(doc.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, op] of Object.entries<{ responses: Operation['responses'] }>(methods as never)) {
      operations.push({ method, pattern, template, responses: op.responses });
    }
  }
  // A literal segment beats a parameter: /v1/reviews/changes before /v1/reviews/{job_id}.
  operations.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  return operations;
}

function validatorFor(key: string, schema: object): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
    validate = ajv!.compile(rooted);
    validators.set(key, validate);
  }
  return validate;
}
