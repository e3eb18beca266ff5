/**
 * The operator status page at `/` in a real browser (issue 7): Debian's Chromium driven by
 * playwright-core loads the page from a running daemon, refuses a wrong key, takes the right one,
 * shows the breaker `closed`, and flips to `open` on its own (it polls) after
 * `POST /api/v1/admin/breaker/open`; it also shows connections, the outbox and memory latency. The
 * screenshot goes to docs/screenshots/status-page.png.
 * Chromium is required here (CI installs it): without it the test fails and says what to install.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BrowserPage,
  chromiumMissingReason,
  launchChromium,
  screenshotDir,
} from '../support/browser.ts';
import { waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { toolReady } from '../support/tools.ts';
import { connect } from '../support/ws.ts';
import { API_KEY, startServer, tokenFor } from './harness.ts';

const SHOTS = screenshotDir();
/** The page polls every 2 s; allow a few polls. */
const FLIP_TIMEOUT_MS = 10_000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The parts of playwright's Page beyond test/support/browser.ts that this test uses. */
interface Page extends BrowserPage {
  /** Selectors need no eval, so they work under the page's strict CSP. */
  waitForSelector(
    selector: string,
    options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number },
  ): Promise<unknown>;
  locator(selector: string): { count(): Promise<number> };
}

describe.skipIf(!toolReady('the status page test', chromiumMissingReason()))(
  'status page in Chromium',
  () => {
    test('takes the key, shows the breaker closed, then open when the circuit opens', async () => {
      const missing = chromiumMissingReason();
      if (missing !== undefined) {
        throw new Error(`the status page test needs Chromium and playwright-core: ${missing}`);
      }
      const dir: TempDir = tempDir('lifeline-ops-status');
      cleanups.push(() => dir[Symbol.dispose]());
      const server = await startServer({ dataDir: dir.join('data') });
      cleanups.push(() => server[Symbol.asyncDispose]());
      // Something to show: two sockets and one delivered message.
      const token = await tokenFor('u1');
      for (let i = 0; i < 2; i++) {
        const { client } = await connect(server.wsUrl, {
          headers: { authorization: `Bearer ${token}` },
        });
        cleanups.push(() => client.close());
      }
      const posted = await server.api('POST', '/api/v1/threads/t1/messages', {
        user_id: 'u1',
        role: 'user',
        content: 'hello status page',
      });
      expect(posted.status).toBe(201);
      // The local backend delivers at commit; a memory search gives the page a latency to show.
      const searched = await server.api('GET', '/api/v1/threads/t1/memory?query=hello&limit=3');
      expect(searched.status).toBe(200);
      await waitFor(async () => {
        const status = await (await server.api('GET', '/api/v1/admin/status')).json();
        return (status as { outbox: { delivered: number } }).outbox.delivered === 1;
      });

      const browser = await launchChromium();
      if (!browser) throw new Error('Chromium did not start');
      cleanups.push(() => browser.close());
      const page = (await browser.newPage()) as Page;
      const pageErrors: unknown[] = [];
      page.on('pageerror', (error) => pageErrors.push(error));
      await page.goto(`${server.baseUrl}/`);

      await page.waitForSelector('#api-key', { state: 'visible' });
      await page.fill('#api-key', 'not-the-key');
      await page.click('#connect');
      await page.waitForSelector('#login-message', { state: 'visible' });
      expect(await page.textContent('#login-message')).toContain('401');

      await page.fill('#api-key', API_KEY);
      await page.click('#connect');
      await page.waitForSelector('#dashboard', { state: 'visible' });
      await page.waitForSelector('#breaker-state.closed');
      expect(await page.textContent('#breaker-state')).toBe('closed');
      expect(await page.textContent('#memory-status')).toBe('ok');
      expect(await page.textContent('#connections')).toBe('2');
      expect(await page.textContent('#latency-p50')).toMatch(/^\d+(\.\d)? ms$/);
      expect(await page.textContent('#outbox-delivered')).toBe('1');

      expect((await server.api('POST', '/api/v1/admin/breaker/open')).status).toBe(200);
      await page.waitForSelector('#breaker-state.open', { timeout: FLIP_TIMEOUT_MS });
      expect(await page.textContent('#breaker-state')).toBe('open');
      expect(await page.textContent('#memory-status')).toBe('write_only');
      expect(await page.locator('#transitions li').count()).toBe(1);
      expect(await page.textContent('#transitions li')).toContain('closed → open');
      expect(pageErrors).toEqual([]);

      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'status-page.png'), fullPage: true });
    }, 60_000);
  },
);
