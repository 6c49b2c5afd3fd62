import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SCHEME, BEARER_SCHEME } from './http/api-key';
import { CALLBACK_BEARER_SCHEME, CALLBACK_TOKEN_SCHEME } from './llm-callback/llm-callback.controller';
import { DeliveryPayloadDto } from './delivery/dto/delivery-payload.dto';
import { tightenSchemas } from './common/openapi-schema';
import { publishResultSchema } from './config/result-schema-openapi';
import { CONFIG, type RelayConfig } from './config/config';

const SIGNATURE_HEADERS = [
  [
    'X-Signature',
    'sha256=<hex HMAC-SHA256(CALLBACK_HMAC_SECRET, raw body)>',
    'sha256=5d41402abc4b2a76b9719d911017c592',
  ],
  [
    'webhook-id',
    "Stable across every attempt and redelivery of a job's result: dedupe on it",
    'msg_3f9c2a7be0d14c55a1e6b0c7d8e9f012',
  ],
  ['webhook-timestamp', 'Unix seconds of this attempt; reject values far from now', '1764160000'],
  [
    'webhook-signature',
    'v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")> (Standard Webhooks)',
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  ],
] as const;

/** The OpenAPI 3.1 document: the API, its security schemes, and the delivery to the web service as a webhook. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('LLM Relay')
    .setDescription(
      'Takes review jobs from a web service, forwards them to an asynchronous LLM server, waits for its callback and ' +
        "delivers the signed result to the job's webhook_url, retrying until acknowledged. The delivery is described " +
        'under webhooks.',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'This relay')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A key from RELAY_API_KEYS' },
      API_KEY_SCHEME,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A key from RELAY_API_KEYS' }, BEARER_SCHEME)
    .addApiKey(
      {
        type: 'apiKey',
        in: 'query',
        name: 'token',
        description: "The job's callback credential, as given in callback_url (or as a Bearer token)",
      },
      CALLBACK_TOKEN_SCHEME,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: "The job's callback_token as a Bearer token" },
      CALLBACK_BEARER_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [DeliveryPayloadDto] });
  tightenSchemas(document);
  // After tightening: the user's schema is published as written, not closed to unknown fields by tightenSchemas.
  const { resultSchema } = app.get<RelayConfig>(CONFIG);
  if (resultSchema) publishResultSchema(document, resultSchema);
  document.webhooks = {
    reviewResult: {
      post: {
        summary: "The review's result, delivered to the job's webhook_url",
        description:
          'Sent once the outcome is known, retried with backoff until the receiver answers 2xx (410 stops it; 3xx is a ' +
          'failure and is not followed). At least once: dedupe on webhook-id. Verify the signature over the raw body.',
        operationId: 'deliverReviewResult',
        // Authenticated by its signature headers, not by a scheme the receiver would configure.
        security: [],
        parameters: SIGNATURE_HEADERS.map(([name, description, example]) => ({
          name,
          in: 'header' as const,
          required: true,
          description,
          schema: { type: 'string' as const },
          example,
        })),
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: getSchemaPath(DeliveryPayloadDto) } } },
        },
        responses: {
          '2XX': { description: 'Delivered: no more attempts' },
          '410': { description: 'Gone: the relay stops retrying and marks the job delivery_failed' },
          default: { description: 'Anything else: retried later' },
        },
      },
    },
  };
  // Routes without a scheme are public on purpose (health, metrics, the developer's simulation): say so.
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations) as { security?: unknown[] }[]) {
      if (typeof operation === 'object' && operation !== null && 'responses' in operation) operation.security ??= [];
    }
  }
  return document;
}
