import fc from 'fast-check';
import { canonicalJson } from '../../src/common/canonical-json';
import { eventually, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { reviewBody } from '../support/relay-client';

/** Keys that a key-by-key object copy drops or misreads: the names of Object.prototype's members, and `prototype`. */
const PROTOTYPE_KEYS = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];

/** Arbitrary JSON: those keys among ordinary and unicode ones, unicode strings, safe integers, doubles, nesting. */
function jsonValue(maxDepth: number): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    fc.constantFrom(...PROTOTYPE_KEYS),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 6 }),
  );
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60, 1e300, 5e-324),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom('\ud800', 'é', '👩‍🔬', '\u0000', '"\\'),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 4 }),
      object(key, tie('value')),
    ),
  }));
  return value;
}

/** Objects built with own data properties only, so a `__proto__` key is a key and never a prototype. */
function object(key: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.array(fc.tuple(key, value), { maxLength: 5 }).map((entries) => Object.fromEntries(entries));
}

/** What the receiving side reads, compared in a form that ignores only key order. */
function same(received: unknown, sentText: string): void {
  expect(canonicalJson(received)).toBe(canonicalJson(JSON.parse(sentText)));
}

describe('free-form JSON passes through unchanged (metadata and result)', () => {
  const stack = useLoopbackStack();

  function submitRaw(body: string, key?: string) {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    };
    return stack.relay.http.post('/v1/reviews').set(headers).send(body);
  }

  it('reproduces the reported loss: Object.prototype names survive in result and metadata', async () => {
    const metadata = '{"course":"ML-101","constructor":"C","nested":{"toString":"t","__proto__":{"x":1},"valueOf":2}}';
    const posted = await submitRaw(
      `{"submission_id":"s","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/hook","metadata":${metadata}}`,
    ).expect(202);
    const jobId = posted.body.job_id;
    const forward = await eventually(() => stack.llm.for(jobId)[0], 'the forward');
    same(forward.json.metadata, metadata);
    expect(Object.keys(forward.json.metadata.nested)).toEqual(['toString', '__proto__', 'valueOf']);

    const result = '{"summary":{"constructor":"P","score":1},"toString":"t"}';
    const simulated = await stack.relay.http
      .post(`/simulate-llm/${jobId}`)
      .set('content-type', 'application/json')
      .send(`{"ok":true,"result":${result}}`);
    expect(simulated.status).toBe(200);
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    same(delivery.json.result, result);
    same((await stack.relay.http.get(`/v1/reviews/${jobId}`).expect(200)).body.result, result);
  });

  it('intake metadata reaches the LLM equal, for arbitrary JSON objects', async () => {
    await fc.assert(
      fc.asyncProperty(
        object(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 8 })), jsonValue(6)),
        async (metadata) => {
          const metadataText = JSON.stringify(metadata);
          const body = `{"submission_id":"prop","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/hook","metadata":${metadataText}}`;
          const posted = await submitRaw(body);
          expect(posted.status).toBe(202);
          const forward = await eventually(() => stack.llm.for(posted.body.job_id)[0], 'the forward');
          same(forward.json.metadata, metadataText);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('callback result reaches the stored job and the delivery equal, for arbitrary JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue(8), async (result) => {
        const posted = await submitRaw(JSON.stringify(reviewBody(`${stack.web.url}/hook`)));
        const forward = await eventually(() => stack.llm.for(posted.body.job_id)[0], 'the forward');
        const resultText = JSON.stringify(result);
        const answer = await fetch(forward.json.callback_url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"ok":true,"result":${resultText}}`,
        });
        expect(answer.status).toBe(200);
        const delivery = await eventually(() => stack.web.for(posted.body.job_id)[0], 'the delivery');
        same(delivery.json.result, resultText);
        same((await stack.relay.http.get(`/v1/reviews/${posted.body.job_id}`).expect(200)).body.result, resultText);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps a deeply nested result that stays within the nesting limit', async () => {
    const posted = await submitRaw(JSON.stringify(reviewBody(`${stack.web.url}/hook`)));
    const forward = await eventually(() => stack.llm.for(posted.body.job_id)[0], 'the forward');
    const deep = `${'{"constructor":'.repeat(29)}[1]${'}'.repeat(29)}`;
    expect((await postJson(forward.json.callback_url, JSON.parse(`{"ok":true,"result":${deep}}`))).status).toBe(200);
    same((await eventually(() => stack.web.for(posted.body.job_id)[0], 'the delivery')).json.result, deep);
  });

  it('the idempotency hash covers every key sent: bodies differing only in such a key conflict', async () => {
    const base = reviewBody(`${stack.web.url}/hook`, { metadata: { course: 'ML-101' } });
    const withKey = reviewBody(`${stack.web.url}/hook`, { metadata: { course: 'ML-101', constructor: 'x' } });
    const first = await submitRaw(JSON.stringify(base), 'idem-proto-1').expect(202);
    expect((await submitRaw(JSON.stringify(base), 'idem-proto-1').expect(202)).body.job_id).toBe(first.body.job_id);
    expect((await submitRaw(JSON.stringify(withKey), 'idem-proto-1').expect(409)).body).toMatchObject({
      code: 'idempotency_key_reused',
    });
  });

  it('refuses numbers JSON cannot carry exactly, naming them, and stores nothing', async () => {
    const before = (await stack.relay.http.get('/v1/reviews?limit=1&include_total=true').expect(200)).body.total;
    const overflow = await submitRaw(
      `{"submission_id":"n","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/h","metadata":{"x":1.8e309}}`,
    ).expect(400);
    expect(overflow.body).toMatchObject({
      code: 'unrepresentable_number',
      message: expect.stringContaining('metadata.x'),
    });
    const rounded = await submitRaw(
      `{"submission_id":"n","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/h","metadata":{"id":12345678901234567891}}`,
    ).expect(400);
    expect(rounded.body).toMatchObject({
      code: 'unrepresentable_number',
      message: expect.stringContaining('12345678901234567891'),
    });
    expect((await stack.relay.http.get('/v1/reviews?limit=1&include_total=true').expect(200)).body.total).toBe(before);
    const pastSafe = await submitRaw(
      `{"submission_id":"n","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/h","metadata":{"id":9007199254740993}}`,
    ).expect(400);
    expect(pastSafe.body.message).toContain('9007199254740993');
    // Digits inside strings, and long integers the relay writes back with the same digits, are fine.
    await submitRaw(
      `{"submission_id":"n","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/h","metadata":{"id":"12345678901234567891","big":1152921504606847000}}`,
    ).expect(202);
  });
});

describe('keys named like Object.prototype members never pollute a prototype', () => {
  const stack = useLoopbackStack();

  it('leaves every prototype untouched whatever the bodies carry, and refuses such keys outside free-form fields', async () => {
    const own = Object.getOwnPropertyNames(Object.prototype).sort();
    const payload = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const top = `{"__proto__":{"polluted":"yes"},"submission_id":"p","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/h"}`;
    const refusedTop = await stack.relay.http
      .post('/v1/reviews')
      .set('content-type', 'application/json')
      .send(top)
      .expect(400);
    expect(refusedTop.body.details).toEqual(['__proto__ is not an accepted field']);
    const inRef = `{"submission_id":"p","file_refs":[{"url":"https://f.example/1","constructor":{"prototype":{"polluted":"yes"}}}],"webhook_url":"${stack.web.url}/h"}`;
    expect(
      (await stack.relay.http.post('/v1/reviews').set('content-type', 'application/json').send(inRef).expect(400)).body
        .details,
    ).toEqual(['file_refs[0].constructor is not an accepted field']);

    const accepted = await stack.relay.http
      .post('/v1/reviews')
      .set('content-type', 'application/json')
      .send(
        `{"submission_id":"p","file_refs":[{"url":"https://f.example/1"}],"webhook_url":"${stack.web.url}/h","metadata":${payload}}`,
      )
      .expect(202);
    await stack.relay.http
      .post(`/simulate-llm/${accepted.body.job_id}`)
      .set('content-type', 'application/json')
      .send(`{"ok":true,"result":${payload}}`)
      .expect(200);
    const delivered = await eventually(() => stack.web.for(accepted.body.job_id)[0], 'the delivery');
    same(delivered.json.result, payload);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(own);
    const job = (await stack.relay.http.get(`/v1/reviews/${accepted.body.job_id}`).expect(200)).body;
    expect(Object.getPrototypeOf(job.result)).toBe(Object.prototype);
    expect(Object.hasOwn(job.result, '__proto__')).toBe(true);
  });
});
