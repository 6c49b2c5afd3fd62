import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const SCREENSHOTS = path.resolve(__dirname, '../../.tmp/console-screenshots');
const DOCS = path.resolve(__dirname, '../../docs');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

export interface WatchedPage {
  page: Page;
  /** Console errors and warnings, page errors, failed requests and requests to any other origin. */
  problems: string[];
  /** Every request the page made, with its X-API-Key header. */
  requests: { url: string; method: string; apiKey: string | undefined }[];
}

/**
 * A page whose every request must go to `origin` and succeed, with no console error: `allow` lists the console
 * messages expected in a test (Chromium logs each 4xx answer to fetch as an error).
 */
export async function watchedPage(browser: Browser, origin: string, allow: RegExp[] = []): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: DESKTOP });
  const watched: WatchedPage = { page, problems: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    if (!allow.some((pattern) => pattern.test(message.text())))
      watched.problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => watched.problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    watched.problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on('request', (request) => {
    watched.requests.push({ url: request.url(), method: request.method(), apiKey: request.headers()['x-api-key'] });
    if (!request.url().startsWith(`${origin}/`)) watched.problems.push(`request to another origin: ${request.url()}`);
  });
  return watched;
}

/**
 * Saves the page at desktop and phone width under .tmp/console-screenshots; with RELAY_CONSOLE_DOC_SCREENSHOTS=1, the
 * desktop view also goes to docs/console-<name>.png for the README.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-1280.png`), fullPage: true });
  if (process.env.RELAY_CONSOLE_DOC_SCREENSHOTS === '1')
    await page.screenshot({ path: path.join(DOCS, `console-${name}.png`) });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
  // Nothing may stick out sideways at phone width but the tables, which scroll in their own box.
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  await page.setViewportSize(DESKTOP);
  if (overflow > 0) throw new Error(`${name}: the page is ${overflow} px wider than a phone's screen`);
}
