import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, Browser, Page } from 'playwright-core';
import { eventually, FakeServer, type RecordedRequest } from '../support/fake-server';
import { hasProgram } from '../support/external';
import { startLoopbackStack, useLoopbackStack } from '../support/loopback-stack';
import { type RunningRelay } from '../support/relay';
import { RelayClient } from '../support/relay-client';
import { screenshots, watchedPage, type WatchedPage } from '../support/console-page';
import { Admin, bearer, expectSignedBy, newEncryptionKey, verifies } from '../support/signing';

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

/** Closed after each test (stacks, and fake LLM servers of their own). */
const opened: Array<{ close(): Promise<void> }> = [];

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

interface FleetStack {
  relay: RunningRelay;
  client: RelayClient;
  /** Answers every POST with 429 and Retry-After: 30 (paused after its first answer). */
  busy: FakeServer;
  /** Accepts every forward and cancel notice (202) and never calls back. */
  accepting: FakeServer;
}

/** A relay forwarding to two LLM servers named in LLM_SERVERS (no LLM_API_URL): `gpu-a` is `busy`, `gpu-b` accepting. */
async function bootFleet(): Promise<FleetStack> {
  const busy = await FakeServer.start(() => ({ status: 429, headers: { 'retry-after': '30' } }));
  opened.push(busy);
  const accepting = await FakeServer.start(() => ({ status: 202 }));
  opened.push(accepting);
  const cancelPath = '/v1/reviews/{job_id}/cancel';
  const loopback = await startLoopbackStack({
    llm: false,
    env: {
      CALLBACK_MAX_RETRIES: '0',
      // One forward at a time, so the first job meets gpu-a before its pause is known; no retry before the test ends.
      WORKER_CONCURRENCY: '1',
      FORWARD_BACKOFF_SECONDS: '300',
      LLM_SERVERS: JSON.stringify([
        { name: 'gpu-a', url: busy.url, max_in_flight: 3, cancel_path: cancelPath },
        { name: 'gpu-b', url: accepting.url, cancel_path: cancelPath },
      ]),
    },
  });
  opened.push(loopback);
  return { relay: loopback.relay, client: loopback.client, busy, accepting };
}

function submit(stack: { client: RelayClient }, submissionId: string): Promise<string> {
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

  async function open(stack: { relay: RunningRelay }, fragment = '', allow: RegExp[] = []): Promise<Page> {
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
    // One server (LLM_API_URL's, named default): one row, with the job at it.
    expect(await text(page, '#servers-title')).toBe('LLM server');
    await expect(page.locator('table.llm-servers tbody tr').allTextContents()).resolves.toEqual([
      expect.stringMatching(/^\s*default\s*healthy\s*1\s*no limit\s*$/),
    ]);
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
    expect(shown.map((cells) => `${cells[1]} ${cells[6]}`)).toEqual(
      attempts.map((a: { leg: string; outcome: string }) => `${a.leg} ${a.outcome}`),
    );
    expect(shown[0][5]).toBe('HTTP 500');
    expect(shown[2][5]).toBe('HTTP 500');
    // Forwards name their server (the one LLM_API_URL describes); deliveries have none.
    expect(shown.map((cells) => cells[4])).toEqual(['default', 'default', '—', '—']);
    expect(await text(page, '[data-field="llm-server"]')).toBe('default');
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

  it('shows each LLM server on the overview as the summary has it: one paused after a 429, the other with the jobs', async () => {
    const stack = await bootFleet();
    const jobs = [await submit(stack, 'fleet-1'), await submit(stack, 'fleet-2')];
    for (const jobId of jobs) await stack.client.waitForStatus(jobId, 'processing');
    // gpu-a was asked once (the first job), answered 429 and is paused for 30 s; gpu-b took both.
    expect(stack.busy.requests.filter((r) => r.method === 'POST').map((r) => r.json?.job_id)).toEqual([jobs[0]]);
    expect(jobs.map((jobId) => stack.accepting.for(jobId).length)).toEqual([1, 1]);
    const summary = (await stack.relay.http.get('/v1/reviews/summary').expect(200)).body;
    expect(summary.llm_servers).toEqual([
      { name: 'gpu-a', state: 'paused', in_flight: 0, max_in_flight: 3 },
      { name: 'gpu-b', state: 'closed', in_flight: 2, max_in_flight: 0 },
    ]);

    const page = await open(stack);
    await until(page, '[data-server="gpu-b"] [data-server-field="in_flight"]', '2', "gpu-b's jobs");
    const rows = await page.locator('table.llm-servers tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        server: tr.getAttribute('data-server'),
        className: tr.querySelector('[data-server-state]')?.getAttribute('class'),
        cells: Array.from(tr.querySelectorAll('td'), (td) =>
          (td as { textContent: string | null }).textContent?.trim(),
        ),
      })),
    );
    expect(rows).toEqual([
      { server: 'gpu-a', className: 'badge server-paused', cells: ['gpu-a', 'paused', '0', '3'] },
      { server: 'gpu-b', className: 'badge server-closed', cells: ['gpu-b', 'healthy', '2', 'no limit'] },
    ]);
    expect(await text(page, '#servers-title')).toBe('LLM servers');
    await screenshots(page, 'overview-servers');
  });

  it("shows a job's LLM server on its page, and each forward and cancel notice's server in its timeline", async () => {
    const stack = await bootFleet();
    const jobId = await submit(stack, 'fleet-timeline');
    await stack.client.waitForStatus(jobId, 'processing');
    await stack.relay.http.post(`/v1/reviews/${jobId}/cancel`).expect(202);
    // The notice goes to the server holding the job; gpu-a refused the forward (429), so it gets none.
    const attempts = await eventually(async () => {
      const items = (await stack.relay.http.get(`/v1/reviews/${jobId}/attempts`).expect(200)).body.items;
      return items.length === 3 && items;
    }, 'the two forwards and the cancel notice');
    const expected = attempts.map((a: { leg: string; llm_server: string | null; status_code: number | null }) => [
      a.leg,
      a.llm_server ?? '—',
      a.status_code === null ? '—' : `HTTP ${a.status_code}`,
    ]);
    expect(expected).toEqual([
      ['forward', 'gpu-a', 'HTTP 429'],
      ['forward', 'gpu-b', 'HTTP 202'],
      ['cancel', 'gpu-b', 'HTTP 202'],
    ]);
    expect((await stack.client.job(jobId)).llm_server).toBe('gpu-b');

    const page = await open(stack, `#/job/${jobId}`);
    await until(page, '[data-job-status]', 'cancelled', 'the job page');
    expect(await text(page, '[data-field="llm-server"]')).toBe('gpu-b');
    const rows = page.locator('table.timeline tbody tr');
    await eventually(async () => (await rows.count()) === attempts.length, 'every attempt in the timeline');
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) =>
        ['Leg', 'Server', 'Answer'].map((label) =>
          (tr.querySelector(`td[data-label="${label}"]`) as { textContent: string | null } | null)?.textContent?.trim(),
        ),
      ),
    );
    expect(shown).toEqual(expected);
    await screenshots(page, 'job-servers');
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

  it("shows a job's priority on its page and, when not normal, in the job list", async () => {
    const stack = await boot();
    const high = await stack.client.submit({ submission_id: 'prio', priority: 'high' });
    const normal = await submit(stack, 'prio');
    await reach(stack, high, 'processing');
    await reach(stack, normal, 'processing');
    expect((await stack.client.job(high)).priority).toBe('high');

    const page = await open(stack, `#/job/${high}`);
    await until(page, '[data-job-status]', 'processing', 'the job page');
    expect(await text(page, '[data-field="priority"]')).toBe('high');
    expect(await text(page, '#job-title [data-priority]')).toBe('high priority');
    await screenshots(page, 'job-priority');

    await page.goto(`${stack.relay.url}/console/#/job/${normal}`);
    await until(page, '#job-title .mono', normal, 'the normal job page');
    await until(page, '[data-field="priority"]', 'normal', "the normal job's priority");
    expect(await page.locator('#job-title [data-priority]').count()).toBe(0);

    await page.goto(`${stack.relay.url}/console/#/jobs?submission_id=prio`);
    await eventually(async () => (await page.locator('table.jobs tbody tr').count()) === 2, 'both jobs listed');
    expect(await text(page, `tr[data-job="${high}"] [data-priority]`)).toBe('high priority');
    expect(await page.locator(`tr[data-job="${normal}"] [data-priority]`).count()).toBe(0);
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

  it('on an open relay: no Clients page and no client filter, and the banner names every key variable', async () => {
    const stack = await boot();
    const page = await open(stack, '#/clients');
    await until(page, '[data-needs-admin]', /needs an admin key: this relay is open/, 'the admin-only note');
    await expect(page.locator('.banner').textContent()).resolves.toMatch(/RELAY_API_KEYS.*RELAY_ADMIN_KEYS/s);
    expect(await page.getByRole('link', { name: 'Clients' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Find jobs' }).click();
    await page.getByRole('heading', { name: 'Find jobs' }).waitFor();
    expect(await page.locator('#client-filter').count()).toBe(0);
    expect(watched!.requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/clients'))).toEqual([]);
  });

  describe('clients: an admin key manages them, a client key sees its own jobs only', () => {
    const ADMIN_KEY = 'console-admin-key-0123456789abcdef';
    const DEFAULT_KEY = 'console-default-client-key-0123456789';

    interface ClientStack extends Stack {
      admin: Admin;
      /** Reads and simulates with the admin key. */
      reader: RelayClient;
    }

    async function bootWithClients(env: NodeJS.ProcessEnv = {}): Promise<ClientStack> {
      const stack = await boot({
        RELAY_ADMIN_KEYS: ADMIN_KEY,
        RELAY_API_KEYS: DEFAULT_KEY,
        RELAY_ENCRYPTION_KEY: newEncryptionKey(),
        ...env,
      });
      return {
        ...stack,
        admin: new Admin(stack.relay.url, ADMIN_KEY),
        reader: new RelayClient(stack.relay.url, { apiKey: ADMIN_KEY }),
      };
    }

    /** Submits with a client's key (Bearer); the job reaches processing (the fake LLM accepts and never calls back). */
    async function processingJob(stack: ClientStack, apiKey: string, submissionId: string): Promise<string> {
      const jobId = await stack.client.submit({ submission_id: submissionId }, bearer(apiKey));
      await stack.reader.waitForStatus(jobId, 'processing');
      return jobId;
    }

    /** A job of the key's client, its LLM result simulated, delivered: its delivery as the receiver got it. */
    async function deliveredJob(
      stack: ClientStack,
      apiKey: string,
      submissionId: string,
    ): Promise<{ jobId: string; delivery: RecordedRequest }> {
      const jobId = await processingJob(stack, apiKey, submissionId);
      expect((await stack.reader.post(`/simulate-llm/${jobId}`)).status).toBe(200);
      await stack.reader.waitForStatus(jobId, 'delivered');
      return { jobId, delivery: await eventually(() => stack.web.for(jobId)[0], `the delivery of ${jobId}`) };
    }

    async function signIn(page: Page, key: string): Promise<void> {
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Use this key' }).click();
      await page.locator('header.top [data-role]').waitFor();
    }

    /** Everything the page holds as text: the markup, what it shows, and every field's value. */
    function pageText(page: Page): Promise<string> {
      return page.evaluate<string>(
        `document.documentElement.outerHTML + document.body.innerText +
          Array.from(document.querySelectorAll('input, textarea, select'), (field) => field.value).join('\\n')`,
      );
    }

    async function jobRows(page: Page): Promise<{ job: string | null; client: string | null }[]> {
      return page.locator('table.jobs tbody tr').evaluateAll((rows) =>
        rows.map((row) => ({
          job: row.getAttribute('data-job'),
          client: row.querySelector('[data-client]')?.getAttribute('data-client') ?? null,
        })),
      );
    }

    it('creates a client in the page: the key and secret shown once work, and the filter narrows jobs and counts', async () => {
      const stack = await bootWithClients();
      const defaultJob = await processingJob(stack, DEFAULT_KEY, 'from-default');
      const page = await open(stack, '#/clients', [/status of 401/]);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.relay.url });
      await signIn(page, ADMIN_KEY);
      expect(await text(page, 'header.top [data-role]')).toBe('admin key');
      await page.getByRole('heading', { name: 'New client' }).waitFor();
      // The built-in default client is listed, its keys and secret left to the environment.
      const defaultCard = page.locator('[data-client="default"]');
      await expect(defaultCard.getByRole('button', { name: 'Issue a new API key' }).isDisabled()).resolves.toBe(true);
      await expect(defaultCard.getByRole('button', { name: 'Rotate signing secret' }).isDisabled()).resolves.toBe(true);
      await expect(defaultCard.locator('[data-field="managed"]').textContent()).resolves.toContain('RELAY_API_KEYS');

      await page.getByLabel('Name').fill('Course platform');
      await page.getByLabel(/Webhook URL prefixes/).fill(`  ${stack.web.url}/\n\nhttps://lms.example.edu/hooks/\n`);
      await page.getByRole('button', { name: 'Create client' }).click();
      const panel = page.locator('.revealed');
      await panel.waitFor();
      await expect(panel.textContent()).resolves.toContain('will not show them again');
      const apiKey = await page.locator('#revealed-0').inputValue();
      const secret = await page.locator('#revealed-1').inputValue();
      expect(apiKey).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      await expect(page.locator('#revealed-0').getAttribute('readonly')).resolves.not.toBeNull();
      await page.getByRole('button', { name: 'Copy the api key' }).click();
      await until(page, '.revealed [role="status"]', 'Copied.', 'the copy to be confirmed');
      await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(apiKey);
      await page.getByRole('button', { name: 'Copy the signing secret' }).click();
      await eventually(
        async () => (await page.evaluate('navigator.clipboard.readText()')) === secret,
        'the secret on the clipboard',
      );
      const listed = (await stack.admin.get('/v1/clients?limit=100')).body.items;
      const created = listed.find((client: { name: string }) => client.name === 'Course platform');
      expect(created.webhook_url_prefixes).toEqual([`${stack.web.url}/`, 'https://lms.example.edu/hooks/']);
      await page.locator(`[data-client="${created.client_id}"]`).waitFor();
      await screenshots(page, 'clients-created');

      // Gone from the page once hidden: before, the same probe finds them.
      expect(await pageText(page)).toContain(secret);
      await page.getByRole('button', { name: 'Done: hide them' }).click();
      await panel.waitFor({ state: 'detached' });
      const after = await pageText(page);
      expect(after).not.toContain(apiKey);
      expect(after).not.toContain(secret);

      // The shown key submits for the new client, and the shown secret verifies its delivery.
      const { jobId, delivery } = await deliveredJob(stack, apiKey, 'from-new-client');
      expect((await stack.reader.job(jobId)).client_id).toBe(created.client_id);
      expect(verifies(secret, delivery)).toBe(true);

      await page.getByRole('link', { name: 'Find jobs' }).click();
      await eventually(async () => (await jobRows(page)).length === 2, 'both clients’ jobs');
      expect((await jobRows(page)).sort((a, b) => String(a.job).localeCompare(String(b.job)))).toEqual(
        [
          { job: defaultJob, client: 'default' },
          { job: jobId, client: created.client_id },
        ].sort((a, b) => a.job.localeCompare(b.job)),
      );
      await page.locator('#client-filter').selectOption(created.client_id);
      await eventually(async () => (await jobRows(page)).length === 1, 'the new client’s job alone');
      expect(await jobRows(page)).toEqual([{ job: jobId, client: created.client_id }]);
      expect(page.url()).toContain(`client_id=${created.client_id}`);
      await expect(page.locator(`tr[data-job="${jobId}"] [data-client]`).textContent()).resolves.toBe(
        `Course platform (${created.client_id})`,
      );
      await screenshots(page, 'jobs-of-a-client');
      // The filter survives a reload, and goes with the links to the other pages.
      await page.reload();
      await eventually(async () => (await jobRows(page)).length === 1, 'the filtered list after a reload');
      await expect(page.locator('#client-filter').inputValue()).resolves.toBe(created.client_id);
      await page.getByRole('link', { name: 'Overview' }).click();
      await until(page, '[data-status="delivered"]', '1', "the new client's delivered job");
      expect(await text(page, '[data-status="processing"]')).toBe('0');
      expect(page.url()).toContain(`client_id=${created.client_id}`);
      await page.locator('#client-filter').selectOption('');
      await until(page, '[data-status="processing"]', '1', "every client's counts");
      expect(await text(page, '[data-status="delivered"]')).toBe('1');
      await page.locator('#client-filter').selectOption('default');
      await until(page, '[data-status="delivered"]', '0', "the default client's counts");
      expect(await text(page, '[data-status="processing"]')).toBe('1');

      await page.goto(`${stack.relay.url}/console/#/job/${jobId}`);
      await until(page, '[data-field="client"]', `Course platform (${created.client_id})`, "the job's client");

      // Neither the key nor the secret ever went into an address or the browser's storage.
      for (const request of watched!.requests) {
        expect(request.url).not.toContain(apiKey);
        expect(request.url).not.toContain(encodeURIComponent(secret));
        expect(request.url).not.toContain(ADMIN_KEY);
      }
      await expect(page.evaluate('localStorage.length')).resolves.toBe(0);
      await expect(page.evaluate('sessionStorage.length')).resolves.toBe(1);
      await expect(page.evaluate("sessionStorage.getItem('relay-console-api-key')")).resolves.toBe(ADMIN_KEY);
    });

    it('issues and revokes a key, rotates the signing secret, disables, enables and renames a client', async () => {
      const stack = await bootWithClients();
      const client = await stack.admin.createClient('Exam system');
      const id = client.client_id;
      const page = await open(stack, '#/clients', [/status of 401/, /status of 400/]);
      await signIn(page, ADMIN_KEY);
      const card = page.locator(`[data-client="${id}"]`);
      await card.waitFor();
      expect(await card.locator('table.keys tbody tr').count()).toBe(1);

      // Issue: shown once, in the card; it works at once.
      await card.getByRole('button', { name: 'Issue a new API key' }).click();
      await card.locator('.revealed').waitFor();
      const issued = await card.locator('#revealed-0').inputValue();
      expect(issued).toMatch(/^rk_/);
      const keyId = ((await card.locator('[data-field="key-id"]').textContent()) ?? '').match(/key_[0-9a-f]+/)?.[0];
      expect(keyId).toBeDefined();
      const withIssued = new RelayClient(stack.relay.url, { apiKey: issued });
      expect((await withIssued.get('/v1/reviews')).status).toBe(200);
      await eventually(async () => (await card.locator('table.keys tbody tr').count()) === 2, 'the second key listed');
      await card.getByRole('button', { name: 'Done: hide it' }).click();
      expect(await pageText(page)).not.toContain(issued);

      // Revoke, after a confirmation: refused from then on; the first key still works.
      await card.getByRole('button', { name: `Revoke ${keyId}` }).click();
      expect(await card.locator(`tr[data-key="${keyId}"]`).count()).toBe(1);
      expect((await withIssued.get('/v1/reviews')).status).toBe(200);
      await card.getByRole('button', { name: 'Yes, revoke it' }).click();
      await card.locator(`tr[data-key="${keyId}"]`).waitFor({ state: 'detached' });
      expect((await withIssued.get('/v1/reviews')).status).toBe(401);
      expect((await new RelayClient(stack.relay.url, { apiKey: client.api_key }).get('/v1/reviews')).status).toBe(200);

      // Rotate: a grace period out of range is refused in the page; 2 hours is sent as 7200 s.
      const grace = card.getByLabel('Grace period (hours)');
      await expect(grace.inputValue()).resolves.toBe('24');
      await grace.fill('200');
      await card.getByRole('button', { name: 'Rotate signing secret' }).click();
      await until(
        page,
        `[data-client="${id}"] [data-field="result"]`,
        'The grace period is 0 to 168 hours.',
        'the range',
      );
      expect((await stack.admin.get(`/v1/clients/${id}`)).body.signing_secrets).toHaveLength(1);
      await grace.fill('2');
      const before = Date.now();
      await card.getByRole('button', { name: 'Rotate signing secret' }).click();
      await card.locator('.revealed').waitFor();
      const rotated = await card.locator('#revealed-0').inputValue();
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(client.signing_secret);
      const secrets = (await stack.admin.get(`/v1/clients/${id}`)).body.signing_secrets;
      expect(secrets).toHaveLength(2);
      const expiresAt = Date.parse(secrets[1].expires_at);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 7_200_000 - 1000);
      expect(expiresAt).toBeLessThan(Date.now() + 7_200_000 + 1000);
      await expect(card.locator('[data-field="previous-expires"]').textContent()).resolves.toContain(
        `${new Date(expiresAt).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
      );
      // Deliveries are signed with the new secret and, through the grace period, the old one.
      const { delivery } = await deliveredJob(stack, client.api_key, 'after-rotation');
      expectSignedBy(delivery, [rotated, client.signing_secret]);
      await card.getByRole('button', { name: 'Done: hide it' }).click();
      expect(await pageText(page)).not.toContain(rotated);

      // Disable, after a confirmation: the client's key is refused (403) until it is enabled again.
      await card.getByRole('button', { name: `Disable ${id}` }).click();
      await card.getByRole('button', { name: 'Yes, disable it' }).click();
      await card.locator('[data-field="disabled"]').waitFor();
      const own = new RelayClient(stack.relay.url, { apiKey: client.api_key });
      const refused = await own.get('/v1/reviews');
      expect([refused.status, refused.body.code]).toEqual([403, 'client_disabled']);
      await screenshots(page, 'clients-disabled');
      await card.getByRole('button', { name: 'Enable' }).click();
      await card.locator('[data-field="disabled"]').waitFor({ state: 'detached' });
      expect((await own.get('/v1/reviews')).status).toBe(200);

      // Edit: a prefix the relay refuses is shown with its code; a good one is saved.
      await card.getByRole('button', { name: 'Edit' }).click();
      await card.getByLabel('Name').fill('Exams (renamed)');
      await card.getByLabel(/Webhook URL prefixes/).fill('not a url');
      await card.getByRole('button', { name: 'Save' }).click();
      await until(
        page,
        `[data-client="${id}"] .edit-client [role="status"]`,
        /^Saving refused: 400 validation_failed: /,
        'the refusal',
      );
      await card.getByLabel(/Webhook URL prefixes/).fill('https://exams.example.edu/hooks/');
      await card.getByRole('button', { name: 'Save' }).click();
      await until(page, `[data-client="${id}"] h3`, 'Exams (renamed)', 'the new name');
      expect(await text(page, `[data-client="${id}"] [data-field="prefixes"]`)).toBe(
        'https://exams.example.edu/hooks/',
      );
      const read = (await stack.admin.get(`/v1/clients/${id}`)).body;
      expect([read.name, read.webhook_url_prefixes, read.disabled]).toEqual([
        'Exams (renamed)',
        ['https://exams.example.edu/hooks/'],
        false,
      ]);
      // The filter's list follows the new name.
      await page.getByRole('link', { name: 'Find jobs' }).click();
      await expect(page.locator(`#client-filter option[value="${id}"]`).textContent()).resolves.toContain(
        'Exams (renamed)',
      );
    });

    it("sets a client's weight and limits in the page; a weight out of bounds is refused and changes nothing", async () => {
      const stack = await bootWithClients();
      const page = await open(stack, '#/clients', [/status of 401/]);
      await signIn(page, ADMIN_KEY);
      // At creation: a weight beside the name.
      await page.getByRole('heading', { name: 'New client' }).waitFor();
      await page.locator('#new-client-name').fill('Weighted');
      await page.locator('#new-client-weight').fill('4');
      await page.getByRole('button', { name: 'Create client' }).click();
      await page.locator('.revealed').waitFor();
      const created = (await stack.admin.get('/v1/clients?limit=100')).body.items.find(
        (client: { name: string }) => client.name === 'Weighted',
      );
      expect([created.weight, created.max_in_flight, created.max_backlog, created.intake_rate_limit]).toEqual([
        4, 0, 0, 0,
      ]);
      await page.getByRole('button', { name: 'Done: hide them' }).click();
      const id = created.client_id as string;
      const card = page.locator(`[data-client="${id}"]`);
      const settings = `[data-client="${id}"] [data-field="settings"]`;
      await until(page, settings, 'weight 4 · max in flight none · backlog none · rate none', 'its settings');
      const patches = () => watched!.requests.filter((r) => r.method === 'PATCH');

      // Out of bounds: refused in the page, nothing sent, nothing changed.
      await card.getByRole('button', { name: 'Edit' }).click();
      const status = `[data-client="${id}"] .edit-client [role="status"]`;
      for (const weight of ['0', '101']) {
        await card.getByLabel('Weight', { exact: true }).fill(weight);
        await card.getByLabel('Max in flight', { exact: true }).fill('2');
        await card.getByRole('button', { name: 'Save' }).click();
        await until(page, status, 'Not saved: Weight is a whole number from 1 to 100.', `the refusal of ${weight}`);
      }
      await card.getByLabel('Weight', { exact: true }).fill('3');
      await card.getByLabel('Max backlog', { exact: true }).fill('10000001');
      await card.getByRole('button', { name: 'Save' }).click();
      await until(page, status, 'Not saved: Max backlog is a whole number from 0 to 10,000,000.', 'the backlog bound');
      expect(patches()).toEqual([]);
      const unchanged = (await stack.admin.get(`/v1/clients/${id}`)).body;
      expect([unchanged.weight, unchanged.max_in_flight, unchanged.max_backlog]).toEqual([4, 0, 0]);
      await screenshots(page, 'clients-settings');

      // Within bounds: saved, shown, and what the relay holds.
      await card.getByLabel('Max backlog', { exact: true }).fill('');
      await card.getByLabel('Intake rate limit', { exact: true }).fill('50');
      await card.getByRole('button', { name: 'Save' }).click();
      await until(page, settings, 'weight 3 · max in flight 2 · backlog none · rate 50', 'the saved settings');
      const read = (await stack.admin.get(`/v1/clients/${id}`)).body;
      expect([read.name, read.weight, read.max_in_flight, read.max_backlog, read.intake_rate_limit]).toEqual([
        'Weighted',
        3,
        2,
        0,
        50,
      ]);
      expect(patches()).toHaveLength(1);

      // The default client's settings are set the same way (its keys stay with the environment).
      const defaultCard = page.locator('[data-client="default"]');
      await defaultCard.getByRole('button', { name: 'Edit' }).click();
      await defaultCard.getByLabel('Weight', { exact: true }).fill('7');
      await defaultCard.getByLabel('Max backlog', { exact: true }).fill('1000');
      await defaultCard.getByRole('button', { name: 'Save' }).click();
      await until(
        page,
        '[data-client="default"] [data-field="settings"]',
        'weight 7 · max in flight none · backlog 1000 · rate none',
        "the default client's settings",
      );
      const defaults = (await stack.admin.get('/v1/clients/default')).body;
      expect([defaults.weight, defaults.max_in_flight, defaults.max_backlog, defaults.intake_rate_limit]).toEqual([
        7, 0, 1000, 0,
      ]);
    });

    it("shows each client's jobs waiting and at the LLM on the overview, as the summary counts them", async () => {
      // One job at the LLM at a time; the fake LLM accepts (202) and never calls back, so the counts hold still.
      const stack = await bootWithClients({ LLM_MAX_IN_FLIGHT: '1' });
      const [lms, exams] = [await stack.admin.createClient('LMS'), await stack.admin.createClient('Exams')];
      for (let i = 0; i < 3; i++) await stack.client.submit({ submission_id: `lms-${i}` }, bearer(lms.api_key));
      for (let i = 0; i < 2; i++) await stack.client.submit({ submission_id: `exams-${i}` }, bearer(exams.api_key));
      type Load = { client_id: string; waiting: number; in_flight: number };
      const summary = async (query = ''): Promise<{ llm_in_flight: number; llm_waiting: number; clients: Load[] }> =>
        (await stack.admin.get(`/v1/reviews/summary${query}`)).body;
      await eventually(async () => {
        const now = await summary();
        return now.llm_in_flight === 1 && now.llm_waiting === 4;
      }, 'one job at the LLM and four waiting');
      const api = await summary();
      const byId = new Map(api.clients.map((load) => [load.client_id, load]));
      expect([...byId.keys()].sort()).toEqual(['default', lms.client_id, exams.client_id].sort());
      const total = (load: Load | undefined) => (load ? load.waiting + load.in_flight : -1);
      expect([total(byId.get(lms.client_id)), total(byId.get(exams.client_id)), total(byId.get('default'))]).toEqual([
        3, 2, 0,
      ]);

      const page = await open(stack, '', [/status of 401/]);
      await signIn(page, ADMIN_KEY);
      const shown = () =>
        page.locator('table.client-loads tbody tr').evaluateAll((rows) =>
          rows.map((row) => ({
            client_id: row.getAttribute('data-load-client'),
            name: row.querySelector('td')?.textContent?.trim(),
            waiting: Number(row.querySelector('[data-load="waiting"]')?.textContent),
            in_flight: Number(row.querySelector('[data-load="in_flight"]')?.textContent),
          })),
        );
      // The page's numbers are the API's, fetched over HTTP beside them.
      await eventually(async () => (await shown()).length === 3, 'a row per client');
      const names = { default: 'default (default)', [lms.client_id]: `LMS (${lms.client_id})` };
      names[exams.client_id] = `Exams (${exams.client_id})`;
      const expected = (loads: Load[]) =>
        loads
          .map((load) => ({ ...load, name: names[load.client_id] }))
          .sort((a, b) => a.client_id.localeCompare(b.client_id));
      const rows = async () =>
        [...(await shown())].sort((a, b) => String(a.client_id).localeCompare(String(b.client_id)));
      expect(await rows()).toEqual(expected((await summary()).clients));
      expect(await text(page, '[data-fact="llm_in_flight"]')).toBe('1 of 1');
      expect(await text(page, '[data-fact="llm_waiting"]')).toBe('4');
      await screenshots(page, 'overview-clients');

      // With the filter set: that client's row alone, still the API's numbers.
      await page.locator('#client-filter').selectOption(exams.client_id);
      await eventually(async () => (await shown()).length === 1, "the Exams client's row alone");
      expect(await rows()).toEqual(expected((await summary(`?client_id=${exams.client_id}`)).clients));
      expect((await shown())[0].waiting + (await shown())[0].in_flight).toBe(2);
    });

    it("lists failed deliveries with each job's client, and of one client when filtered", async () => {
      const stack = await bootWithClients();
      const [lms, exams] = [await stack.admin.createClient('LMS'), await stack.admin.createClient('Exams')];
      stack.receiver.status = 500;
      const failed = async (apiKey: string, submissionId: string): Promise<string> => {
        const jobId = await processingJob(stack, apiKey, submissionId);
        expect((await stack.reader.post(`/simulate-llm/${jobId}`)).status).toBe(200);
        await stack.reader.waitForStatus(jobId, 'delivery_failed');
        return jobId;
      };
      const ofLms = await failed(lms.api_key, 'lms-failed');
      const ofExams = await failed(exams.api_key, 'exams-failed');
      const page = await open(stack, '#/failed', [/status of 401/]);
      await signIn(page, ADMIN_KEY);
      const rows = () =>
        page
          .locator('table.failed-jobs tbody tr')
          .evaluateAll((trs) =>
            trs.map((tr) => `${tr.getAttribute('data-job')} ${tr.querySelector('[data-client]')?.textContent?.trim()}`),
          );
      await eventually(async () => (await rows()).length === 2, 'both failed deliveries');
      expect((await rows()).sort()).toEqual(
        [`${ofLms} LMS (${lms.client_id})`, `${ofExams} Exams (${exams.client_id})`].sort(),
      );
      await page.locator('#client-filter').selectOption(exams.client_id);
      await eventually(async () => (await rows()).length === 1, "the Exams client's failed delivery alone");
      expect(await rows()).toEqual([`${ofExams} Exams (${exams.client_id})`]);
      expect(page.url()).toContain(`#/failed?client_id=${exams.client_id}`);
      await expect(page.locator('#failed-title').textContent()).resolves.toContain(`of Exams (${exams.client_id})`);
    });

    it("with a client's key: its own jobs only, no Clients page, no client filter", async () => {
      const stack = await bootWithClients();
      const [mine, theirs] = [await stack.admin.createClient('Mine'), await stack.admin.createClient('Theirs')];
      const own = await processingJob(stack, mine.api_key, 'mine');
      await processingJob(stack, theirs.api_key, 'theirs');
      await processingJob(stack, DEFAULT_KEY, 'default');
      const page = await open(stack, '#/jobs', [/status of 401/, /status of 403/]);
      await signIn(page, mine.api_key);
      expect(await text(page, 'header.top [data-role]')).toBe("a client's key");
      await eventually(async () => (await jobRows(page)).length === 1, 'its own job');
      expect((await jobRows(page)).map((row) => row.job)).toEqual([own]);
      expect(await page.locator('table.jobs th', { hasText: 'Client' }).count()).toBe(0);
      expect(await page.locator('#client-filter').count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Clients' }).count()).toBe(0);

      // A link naming another client lists its own jobs still, with no error.
      await page.goto(`${stack.relay.url}/console/#/jobs?client_id=${theirs.client_id}`);
      await eventually(async () => (await jobRows(page)).length === 1, 'its own job, the client named ignored');
      expect((await jobRows(page)).map((row) => row.job)).toEqual([own]);
      await page.goto(`${stack.relay.url}/console/#/?client_id=${theirs.client_id}`);
      await until(page, '[data-status="processing"]', '1', 'its own counts');
      // The LLM servers are the relay's: a client's key sees them, with every client's jobs at them.
      await until(page, '[data-server="default"] [data-server-field="in_flight"]', '3', 'the LLM server row');

      // The key's kind was told by one GET of the clients (403 admin_key_required); the Clients page asks nothing.
      const management = () => watched!.requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/clients'));
      expect(management().length).toBeGreaterThan(0);
      expect(management().every((r) => r.method === 'GET')).toBe(true);
      const asked = management().length;
      await page.goto(`${stack.relay.url}/console/#/clients`);
      await until(page, '[data-needs-admin]', /needs an admin key \(one of RELAY_ADMIN_KEYS\)/, 'the admin-only note');
      expect(await page.getByRole('button', { name: 'Create client' }).count()).toBe(0);
      expect(management()).toHaveLength(asked);
      await screenshots(page, 'clients-needs-admin');
    });
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
