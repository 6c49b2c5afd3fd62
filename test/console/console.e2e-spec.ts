import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, Browser, Page } from 'playwright-core';
import { eventually, type FakeServer } from '../support/fake-server';
import { hasProgram } from '../support/external';
import { type LoopbackStack, startLoopbackStack, useLoopbackStack } from '../support/loopback-stack';
import { type RunningRelay } from '../support/relay';
import { type RelayClient } from '../support/relay-client';
import { screenshots, watchedPage, type WatchedPage } from '../support/console-page';

const withChromium = hasProgram('chromium', 'RELAY_REQUIRE_CHROMIUM');

interface Stack {
  relay: RunningRelay;
  client: RelayClient;
  llm: FakeServer;
  web: FakeServer;
  /** What the receiver answers from now on. */
  receiver: { status: number };
  /** What the LLM answers to the forward of a submission (default 202). */
  llmAnswers: Map<string, number>;
}

/** Closed after each test. */
const opened: LoopbackStack[] = [];

async function boot(env: NodeJS.ProcessEnv = {}): Promise<Stack> {
  const receiver = { status: 200 };
  const llmAnswers = new Map<string, number>();
  const loopback = await startLoopbackStack({
    llm: (req) => ({ status: req.path.endsWith('/cancel') ? 200 : (llmAnswers.get(req.json?.submission_id) ?? 202) }),
    web: () => ({ status: receiver.status }),
    env: { CALLBACK_MAX_RETRIES: '0', ...env },
  });
  opened.push(loopback);
  return { relay: loopback.relay, client: loopback.client, llm: loopback.llm, web: loopback.web, receiver, llmAnswers };
}

function submit(stack: Stack, submissionId: string): Promise<string> {
  return stack.client.submit({ submission_id: submissionId });
}

async function reach(stack: Stack, jobId: string, status: string): Promise<void> {
  await stack.client.waitForStatus(jobId, status);
}

/** A job the LLM answered, whose result the receiver refused (500): delivery_failed at once (no retries). */
async function failedDelivery(stack: Stack, submissionId: string): Promise<string> {
  stack.receiver.status = 500;
  const jobId = await submit(stack, submissionId);
  await reach(stack, jobId, 'processing');
  await stack.relay.http.post(`/simulate-llm/${jobId}`).expect(200);
  await reach(stack, jobId, 'delivery_failed');
  // The attempt's row is written just after the status change.
  await eventually(
    async () => (await stack.relay.http.get(`/v1/reviews/${jobId}`)).body.delivery.last_status_code === 500,
    'the attempt row',
  );
  return jobId;
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

async function until(page: Page, selector: string, wanted: string | RegExp, what: string): Promise<void> {
  await eventually(
    async () => {
      const found = (await page.locator(selector).count()) > 0 ? await text(page, selector) : '';
      return typeof wanted === 'string' ? found === wanted : wanted.test(found);
    },
    what,
    20_000,
  );
}

(withChromium ? describe : describe.skip)('the operator console in a real browser (headless Chromium)', () => {
  let browser: Browser;
  let watched: WatchedPage | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterEach(async () => {
    const problems = watched?.problems ?? [];
    await watched?.page.close();
    watched = undefined;
    for (const stack of opened.splice(0)) await stack.close();
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(stack: Stack, fragment = '', allow: RegExp[] = []): Promise<Page> {
    watched = await watchedPage(browser, stack.relay.url, allow);
    await watched.page.goto(`${stack.relay.url}/console${fragment ? `/${fragment}` : ''}`);
    return watched.page;
  }

  it('shows jobs by status, the LLM queue and the last hour, and refreshes by itself', async () => {
    const stack = await boot({ FORWARD_BACKOFF_SECONDS: '300' });
    stack.llmAnswers.set('never-forwarded', 500);
    const delivered = [await submit(stack, 'd-1'), await submit(stack, 'd-2')];
    const failed = await failedDelivery(stack, 'f-1');
    stack.receiver.status = 200;
    const waiting = await submit(stack, 'never-forwarded');
    const processing = await submit(stack, 'p-1');
    const cancelled = await submit(stack, 'c-1');
    for (const jobId of [...delivered, processing, cancelled]) await reach(stack, jobId, 'processing');
    await eventually(() => stack.llm.requests.some((r) => r.json?.job_id === waiting), 'the refused forward');
    await stack.relay.http.post(`/v1/reviews/${cancelled}/cancel`).expect(202);
    for (const jobId of delivered) await stack.relay.http.post(`/simulate-llm/${jobId}`).expect(200);
    for (const jobId of delivered) await reach(stack, jobId, 'delivered');
    expect(failed).toBeTruthy();

    const page = await open(stack);
    await until(page, '[data-status="delivered"]', '2', 'the delivered count');
    const counts = Object.fromEntries(
      await Promise.all(
        ['queued', 'processing', 'delivering', 'delivered', 'delivery_failed', 'cancelled'].map(async (s) => [
          s,
          await text(page, `[data-status="${s}"]`),
        ]),
      ),
    );
    expect(counts).toEqual({
      queued: '1',
      processing: '1',
      delivering: '0',
      delivered: '2',
      delivery_failed: '1',
      cancelled: '1',
    });
    expect(await text(page, '[data-fact="llm_waiting"]')).toBe('1');
    expect(await text(page, '[data-fact="llm_in_flight"]')).toBe('1');
    expect(await text(page, '[data-fact="oldest_pending"]')).toMatch(/^\d+ s$/);
    await until(page, '[data-total="delivered"]', '2', 'the delivered attempts of the hour');
    expect(await text(page, '[data-total="failed"]')).toBe('1');
    expect(await page.locator('.chart rect.delivered').count()).toBeGreaterThan(0);
    await expect(page.locator('.banner').textContent()).resolves.toMatch(/No API key required: this relay is open/);
    await screenshots(page, 'overview');

    // Without a reload: a job delivered now shows within a refresh or two.
    await stack.relay.http.post(`/simulate-llm/${processing}`).expect(200);
    await until(page, '[data-status="delivered"]', '3', 'the overview to refresh by itself');
    await until(page, '[data-total="delivered"]', '3', 'the chart to refresh by itself');
  });

  it('finds a failed delivery, redelivers it from its row, and the receiver gets it', async () => {
    const stack = await boot();
    const jobId = await failedDelivery(stack, 'needs-redelivery');
    const page = await open(stack, '#/failed');
    const row = page.locator(`tr[data-job="${jobId}"]`);
    await row.waitFor();
    expect(await row.locator('.answer').textContent()).toBe('HTTP 500');
    await expect(row.locator('time').textContent()).resolves.toMatch(/ago$/);
    await screenshots(page, 'failed-one');

    stack.receiver.status = 200;
    await row.getByRole('button', { name: `Redeliver ${jobId}` }).click();
    await eventually(
      async () => (await row.locator('.result').textContent()) === 'delivered',
      'the row to say delivered',
      20_000,
    );
    const deliveries = stack.web.for(jobId);
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1].headers['webhook-id']).toBe(deliveries[0].headers['webhook-id']);
    expect((await stack.client.job(jobId)).status).toBe('delivered');
  });

  it('redelivers three selected jobs at once, each result in its row', async () => {
    const stack = await boot();
    const jobs = [
      await failedDelivery(stack, 'bulk-1'),
      await failedDelivery(stack, 'bulk-2'),
      await failedDelivery(stack, 'bulk-3'),
    ];
    const page = await open(stack, '#/failed');
    for (const jobId of jobs) await page.getByLabel(`Select ${jobId}`).check();
    stack.receiver.status = 200;
    await page.getByRole('button', { name: 'Redeliver selected (3)' }).click();
    for (const jobId of jobs) {
      await eventually(
        async () => (await page.locator(`tr[data-job="${jobId}"] .result`).textContent()) === 'delivered',
        `${jobId} delivered`,
        20_000,
      );
      expect(stack.web.for(jobId)).toHaveLength(2);
    }
    expect(await page.getByRole('button', { name: /Redeliver selected/ }).textContent()).toBe('Redeliver selected (0)');
    await screenshots(page, 'failed');
  });

  it('finds jobs by submission id and by job id, and pages through a status with next_cursor', async () => {
    const stack = await boot();
    const wanted = [await submit(stack, 'find-me'), await submit(stack, 'find-me')];
    const others: string[] = [];
    for (let i = 0; i < 21; i++) others.push(await submit(stack, `other-${i}`));
    // All 23 processing before the status page is opened: the list does not refresh by itself.
    for (const jobId of [...wanted, ...others]) await reach(stack, jobId, 'processing');
    const page = await open(stack, '#/jobs');
    await page.getByLabel('Job id or submission id').fill('find-me');
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(async () => (await page.locator('table.jobs tbody tr').count()) === 2, 'two matches');
    const found = await page
      .locator('table.jobs tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
    expect(found.sort()).toEqual([...wanted].sort());
    expect(page.url()).toContain('submission_id=find-me');
    await screenshots(page, 'search');

    await page.getByLabel('Job id or submission id').fill(wanted[0]);
    await page.getByRole('button', { name: 'Search' }).click();
    await until(page, '#job-title .mono', wanted[0], 'the job page');

    await page.goto(`${stack.relay.url}/console/#/jobs?status=processing`);
    await eventually(async () => (await page.locator('table.jobs tbody tr').count()) === 20, 'a first page of 20');
    const first = await page
      .locator('table.jobs tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
    await page.getByRole('link', { name: 'Next page' }).click();
    await eventually(async () => (await page.locator('table.jobs tbody tr').count()) === 3, 'a second page of 3');
    const second = await page
      .locator('table.jobs tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
    expect(new Set([...first, ...second]).size).toBe(23);
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
  });

  it("shows a job's lifecycle, result, webhook-id and every attempt of its timeline", async () => {
    const stack = await boot({ LLM_CANCEL_PATH: '/v1/reviews/{job_id}/cancel' });
    stack.llmAnswers.set('timeline', 500);
    const jobId = await submit(stack, 'timeline');
    await eventually(() => stack.llm.for(jobId).length >= 1, 'a refused forward');
    stack.llmAnswers.delete('timeline');
    await reach(stack, jobId, 'processing');
    stack.receiver.status = 500;
    await stack.relay.http
      .post(`/simulate-llm/${jobId}`)
      .send({ ok: true, result: { score: 0.91, feedback: 'Clear and complete' } })
      .expect(200);
    await reach(stack, jobId, 'delivery_failed');
    stack.receiver.status = 200;
    await stack.relay.http.post(`/v1/reviews/${jobId}/redeliver`).expect(202);
    await reach(stack, jobId, 'delivered');
    const attempts = await eventually(async () => {
      const items = (await stack.relay.http.get(`/v1/reviews/${jobId}/attempts`).expect(200)).body.items;
      return items.length === 4 && items;
    }, 'the four attempt rows');
    expect(attempts.map((a: { leg: string; outcome: string }) => `${a.leg} ${a.outcome}`)).toEqual([
      'forward retry',
      'forward success',
      'delivery failed',
      'delivery success',
    ]);

    const page = await open(stack, `#/job/${jobId}`);
    await until(page, '[data-job-status]', 'delivered', 'the job page');
    const rows = page.locator('table.timeline tbody tr');
    expect(await rows.count()).toBe(attempts.length);
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll('td'), (td) => (td as { textContent: string | null }).textContent?.trim()),
      ),
    );
    expect(shown.map((cells) => `${cells[1]} ${cells[5]}`)).toEqual(
      attempts.map((a: { leg: string; outcome: string }) => `${a.leg} ${a.outcome}`),
    );
    expect(shown[0][4]).toBe('HTTP 500');
    expect(shown[2][4]).toBe('HTTP 500');
    expect(shown[3][2]).toBe('2 (round 2)');
    expect(await text(page, '[data-field="webhook-id"]')).toBe(`msg_${jobId.slice(4)}`);
    await expect(page.locator('.result-json').textContent()).resolves.toContain('Clear and complete');
    await expect(page.getByRole('button', { name: 'Redeliver' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Cancel job' }).count()).resolves.toBe(0);
    await screenshots(page, 'job');

    // A cancel notice to the LLM is part of the timeline too.
    const cancelled = await submit(stack, 'timeline-cancel');
    await reach(stack, cancelled, 'processing');
    await stack.relay.http.post(`/v1/reviews/${cancelled}/cancel`).expect(202);
    await eventually(
      async () => (await stack.relay.http.get(`/v1/reviews/${cancelled}/attempts`)).body.items.length === 2,
      'the cancel notice',
    );
    await page.goto(`${stack.relay.url}/console/#/job/${cancelled}`);
    await eventually(async () => (await page.locator('table.timeline tr.leg-cancel').count()) === 1, 'the cancel row');
  });

  it('cancels a job from its page, and feeds a simulated LLM result to another', async () => {
    const stack = await boot();
    const toCancel = await submit(stack, 'to-cancel');
    const toSimulate = await submit(stack, 'to-simulate');
    await reach(stack, toCancel, 'processing');
    await reach(stack, toSimulate, 'processing');

    const page = await open(stack, `#/job/${toCancel}`);
    await until(page, '[data-job-status]', 'processing', 'the job page');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await until(page, '[data-job-status]', 'cancelled', 'the job to show cancelled');
    expect((await stack.client.job(toCancel)).status).toBe('cancelled');
    await expect(page.getByRole('button', { name: 'Cancel job' }).count()).resolves.toBe(0);

    await page.goto(`${stack.relay.url}/console/#/job/${toSimulate}`);
    await until(page, '[data-job-status]', 'processing', 'the second job page');
    await page.getByRole('button', { name: 'Simulate LLM result' }).click();
    await until(page, '[data-job-status]', 'delivered', 'the simulated result delivered');
    expect(stack.web.for(toSimulate)).toHaveLength(1);
  });

  it('with API keys: shows nothing until a key is entered, says when a key is wrong, and sends it only as X-API-Key', async () => {
    const stack = await boot({ RELAY_API_KEYS: 'console-key-1,console-key-2' });
    await stack.client.submit({ submission_id: 'secret' }, { apiKey: 'console-key-1' });
    const page = await open(stack, '', [/status of 401/, /status of 403/]);
    await page.getByLabel('API key').waitFor();
    expect(await page.locator('[data-status]').count()).toBe(0);
    expect(await page.locator('.banner').count()).toBe(0);
    await screenshots(page, 'key');

    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await until(page, '[role="alert"]', 'Wrong API key: the relay answered 401.', 'the wrong-key message');
    expect(await page.locator('[data-status]').count()).toBe(0);

    await page.getByLabel('API key').fill('console-key-2');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await until(page, '[data-status="queued"], [data-status="processing"]', /^[01]$/, 'the overview');
    await page.goto(`${stack.relay.url}/console/#/jobs?submission_id=secret`);
    await eventually(
      async () => (await page.locator('table.jobs tbody tr').count()) === 1,
      'the job, read with the key',
    );

    const apiCalls = watched!.requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
    expect(apiCalls.length).toBeGreaterThan(3);
    for (const call of apiCalls) expect(call.url).not.toMatch(/console-key|not-a-key/);
    expect(apiCalls.filter((r) => r.apiKey === 'console-key-2').length).toBeGreaterThan(1);
    await expect(page.evaluate('document.cookie')).resolves.toBe('');
    await expect(page.evaluate("sessionStorage.getItem('relay-console-api-key')")).resolves.toBe('console-key-2');
    await expect(page.evaluate('localStorage.length')).resolves.toBe(0);

    // The key is kept for the tab: a reload asks for nothing.
    await page.reload();
    await page.locator('table.jobs tbody tr').waitFor();
    expect(await page.getByLabel('API key').count()).toBe(0);
  });

  it('shows hostile job data as text: markup in ids, messages and URLs never runs', async () => {
    const stack = await boot();
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const jobId = await submit(stack, hostile);
    await reach(stack, jobId, 'processing');
    await stack.relay.http
      .post(`/simulate-llm/${jobId}`)
      .send({
        ok: false,
        error: { code: '<script>window.__pwned=2</script>', message: `<svg onload="window.__pwned=3">` },
      })
      .expect(200);
    await reach(stack, jobId, 'delivered');

    const page = await open(stack, `#/job/${jobId}`);
    await until(page, '[data-job-status]', 'delivered', 'the job page');
    await expect(page.locator('.details').textContent()).resolves.toContain(hostile);
    await expect(page.locator('.notice.error').textContent()).resolves.toContain('<svg onload="window.__pwned=3">');
    await page.goto(`${stack.relay.url}/console/#/jobs?submission_id=${encodeURIComponent(hostile)}`);
    await eventually(async () => (await page.locator('table.jobs tbody tr').count()) === 1, 'the job in the list');
    await expect(page.locator('table.jobs tbody').textContent()).resolves.toContain(hostile);
    expect(await page.locator('img[src="x"], svg[onload]').count()).toBe(0);
    await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
    // A mangled link says so instead of blanking the console.
    await page.goto(`${stack.relay.url}/console/#/job/%E0%A4%A`);
    await until(page, '[role="alert"]', 'Not a job id.', 'the message for a mangled link');
  });

  it('works under a path prefix: every URL is relative to the page', async () => {
    const stack = await boot();
    const jobId = await failedDelivery(stack, 'behind-a-prefix');
    const proxy = await prefixProxy('/ops/relay', new URL(stack.relay.url));
    try {
      watched = await watchedPage(browser, proxy.origin);
      const page = watched.page;
      await page.goto(`${proxy.origin}/ops/relay/console`);
      await until(page, '[data-status="delivery_failed"]', '1', 'the overview through the prefix');
      await page.getByRole('link', { name: 'Failed deliveries' }).click();
      await page.locator(`tr[data-job="${jobId}"]`).waitFor();
      const paths = watched.requests.map((r) => new URL(r.url).pathname);
      expect(paths.every((p) => p.startsWith('/ops/relay/'))).toBe(true);
      expect(paths).toEqual(
        expect.arrayContaining(['/ops/relay/console/', '/ops/relay/console/app.js', '/ops/relay/v1/reviews/summary']),
      );
      // Checked here: the finally below closes the page before afterEach would look.
      expect(watched.problems).toEqual([]);
    } finally {
      await watched?.page.close();
      watched = undefined;
      await proxy.close();
    }
  });
});

describe('serving the console', () => {
  // Each test starts the relay with its settings.
  const stack = useLoopbackStack({ llm: false, relay: false }, 'each');

  it('answers with a Content-Security-Policy that allows only its own origin, and keeps the one of /docs', async () => {
    const relay = await stack.start();
    const redirect = await relay.http.get('/console').expect(302);
    expect(redirect.headers.location).toBe('console/');
    for (const path of ['/console/', '/console/app.js', '/console/console.css', '/console/vendor/preact.mjs']) {
      const answer = await relay.http.get(path).expect(200);
      const csp = answer.headers['content-security-policy'];
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).toContain("connect-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
    }
    const page = await relay.http.get('/console/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).not.toMatch(/(src|href)="\//);
    expect(page.text).not.toMatch(/<script>|<style|style=/);
    expect((await relay.http.get('/console/app.js').expect(200)).headers['content-type']).toMatch(/^text\/javascript/);
    const head = await relay.http.head('/console/app.js').expect(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    const etag = head.headers.etag;
    const notModified = await relay.http.get('/console/app.js').set('If-None-Match', etag).expect(304);
    const missing = await relay.http.get('/console/nothing-here.js').expect(404);
    await relay.http.get('/console/../package.json').expect(404);
    // Every answer under /console carries the policy, not only the 200s.
    for (const answer of [redirect, notModified, missing])
      expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
    const docs = await relay.http.get('/docs').redirects(1).expect(200);
    expect(docs.headers['content-security-policy']).toContain("'unsafe-inline'");
  });

  it('is 404 with CONSOLE_ENABLED=false, the API unaffected', async () => {
    const relay = await stack.start({ CONSOLE_ENABLED: 'false' });
    await relay.http.get('/console').expect(404);
    await relay.http.get('/console/').expect(404);
    await relay.http.get('/console/app.js').expect(404);
    await relay.http.get('/v1/reviews/summary').expect(200);
  });
});

/** A reverse proxy that serves the relay under a path prefix, as a shared ingress would. */
async function prefixProxy(prefix: string, target: URL): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(404).end();
      return;
    }
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url.slice(prefix.length),
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
