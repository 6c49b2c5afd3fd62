import * as fs from 'node:fs';
import { chromium, Browser } from 'playwright-core';
import { eventually } from '../support/fake-server';
import { hasProgram } from '../support/external';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';
import { type RelayProcess } from '../support/relay-process';

const withChromium = hasProgram('chromium', 'RELAY_REQUIRE_CHROMIUM');

(withChromium ? describe : describe.skip)('Swagger UI in a real browser (headless Chromium)', () => {
  const dir = tempDir('relay-ui-');
  // The built relay (where the Swagger CLI plugin has run) as a process, with the built-in simulated LLM.
  const stack = useLoopbackStack({ llm: false, relay: false });
  let relay: RelayProcess;
  let browser: Browser;

  beforeAll(async () => {
    relay = await stack.startProcess({ DATABASE_URL: `sqlite:///${dir}/relay.db`, RELAY_API_KEYS: 'ui-test-key' });
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

  afterAll(async () => {
    await browser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders the operations, authorizes with an API key, and "Try it out" submits a job', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${relay.url}/docs`);
    await page.waitForSelector('.opblock-summary-path');
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(
      expect.arrayContaining([
        '/v1/reviews',
        '/v1/reviews/{job_id}',
        '/v1/llm/callback/{job_id}',
        '/simulate-llm/{job_id}',
      ]),
    );

    // The delivery to the web service, described as an OpenAPI 3.1 webhook.
    await expect(page.locator('.opblock-summary-path', { hasText: 'reviewResult' }).count()).resolves.toBe(1);

    await page.click('button.authorize');
    const apiKeyInput = page.locator('.modal-ux input[type="text"], .modal-ux input[type="password"]').first();
    await apiKeyInput.fill('ui-test-key');
    await page.locator('.modal-ux button.authorize').first().click();
    await page.locator('.modal-ux button.btn-done').first().click();

    const operation = page.locator('#operations-reviews-ReviewsController_create');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    const body = JSON.stringify({
      submission_id: 'from-swagger-ui',
      file_refs: [{ url: 'https://files.example.com/1.pdf' }],
      webhook_url: stack.hook,
    });
    await operation.locator('textarea.body-param__text').fill(body);
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await eventually(async () => (await status.textContent())?.trim() === '202', 'a 202 in the live response', 15_000);
    const responseBody = await operation
      .locator('.live-responses-table .response-col_description pre')
      .first()
      .textContent();
    const jobId = JSON.parse(responseBody ?? '{}').job_id;
    expect(jobId).toMatch(/^job_[0-9a-f]{32}$/);
    await eventually(() => stack.web.for(jobId)[0], 'the delivery of the job made in the browser');
    expect(errors).toEqual([]);
    await page.screenshot({ path: `${dir}/swagger.png` });
  });
});
