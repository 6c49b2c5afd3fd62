import { takeOpenApiViolations } from './openapi-check';

// Answers that contradict the OpenAPI document fail the test during which they were given.
afterEach(() => {
  const violations = takeOpenApiViolations();
  if (violations.length > 0)
    throw new Error(`Responses that contradict the OpenAPI document:\n${violations.join('\n')}`);
});

afterAll(() => {
  const violations = takeOpenApiViolations();
  if (violations.length > 0)
    throw new Error(`Responses that contradict the OpenAPI document:\n${violations.join('\n')}`);
});
