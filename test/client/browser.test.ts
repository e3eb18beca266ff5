/**
 * Real browser: Debian's Chromium (playwright-core) against the compiled binary, copied alone into
 * an empty directory, in development mode (the demo page signs in through /demo/token). The demo
 * page rehydrates; a preference set in one page appears in another; a killed and restarted server
 * is reconnected to with the missed messages shown once; an open breaker shows the degraded
 * banner; a React page built from client/react.ts renders the thread and updates on push.
 * Screenshots go to docs/screenshots/. Waits are on conditions, never on times.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BrowserPage,
  chromiumMissingReason,
  type LaunchedBrowser,
  launchChromium,
  screenshotDir,
} from '../support/browser.ts';
import { binaryPath, freePort } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';
import { toolReady } from '../support/tools.ts';
import { type DaemonProcess, startDaemon } from './daemon.ts';

const SHOTS = screenshotDir();
const API_KEY = 'client-browser-test-api-key-0123456789';
const skipReason = toolReady('the browser tests', chromiumMissingReason())
  ? undefined
  : 'no Chromium';

/** The parts of playwright's Page beyond test/support/browser.ts that these tests use. */
interface Page extends BrowserPage {
  setContent(html: string): Promise<void>;
  addScriptTag(options: { content: string; type?: string }): Promise<unknown>;
  close(): Promise<void>;
  selectOption(selector: string, value: string): Promise<unknown>;
  /** Selectors need no eval, so they work under the demo page's CSP (no 'unsafe-eval'). */
  waitForSelector(
    selector: string,
    options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number },
  ): Promise<unknown>;
  locator(selector: string): {
    allTextContents(): Promise<string[]>;
    evaluateAll<T>(fn: (elements: Element[]) => T): Promise<T>;
    count(): Promise<number>;
  };
}

describe.skipIf(skipReason !== undefined)(
  `client in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let browser: LaunchedBrowser;
    let server: DaemonProcess;
    let dir: ReturnType<typeof tempDir>;
    let binary: string;
    let port: number;

    const startServer = () =>
      startDaemon({
        port,
        dataDir: join(dir.path, 'data'),
        binary,
        cwd: dir.path,
        env: { LIFELINE_AUTH_API_KEY: API_KEY },
      });

    beforeAll(async () => {
      dir = tempDir('lifeline-client-browser');
      // The binary alone in an empty directory: /client.js and /demo must come from inside it.
      binary = join(dir.path, 'lifeline');
      copyFileSync(binaryPath(), binary);
      port = freePort();
      server = await startServer();
      mkdirSync(SHOTS, { recursive: true });
      const launched = await launchChromium();
      if (!launched) throw new Error('chromium did not start');
      browser = launched;
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.[Symbol.asyncDispose]();
      dir?.[Symbol.dispose]();
    });

    async function demoPage(): Promise<Page> {
      const page = (await browser.newPage()) as Page;
      await page.goto(`${server.baseUrl}/demo`);
      await waitOpen(page);
      return page;
    }

    const waitOpen = (page: Page) =>
      page.waitForSelector('#status[data-state="open"]', { timeout: 20_000 });

    const messageIds = (page: Page) =>
      page
        .locator('#messages li:not(.pending)')
        .evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.id ?? ''));

    async function postMessage(content: string): Promise<void> {
      const answer = await fetch(`${server.baseUrl}/api/v1/threads/demo/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'demo', role: 'assistant', content }),
      });
      expect(answer.status).toBe(201);
    }

    test('serves the bundled client with its source map from the binary alone', async () => {
      const js = await fetch(`${server.baseUrl}/client.js`);
      expect(js.headers.get('content-type')).toContain('javascript');
      expect(await js.text()).toContain('sourceMappingURL=client.js.map');
      const map = (await (await fetch(`${server.baseUrl}/client.js.map`)).json()) as {
        sources: string[];
      };
      expect(map.sources.some((source) => source.endsWith('client/index.ts'))).toBe(true);
    });

    test('the demo page rehydrates as the demo user', async () => {
      await postMessage('Welcome back! Your session was restored by push.');
      const page = await demoPage();
      expect(await page.textContent('#user')).toBe('demo');
      await page.waitForSelector('#messages li:has-text("Welcome back")');
      await page.fill('#content', 'Hello from the demo page');
      await page.click('#send');
      await page.waitForSelector('#messages li:not(.pending):has-text("Hello from the demo page")');
      await page.waitForSelector('#messages li.pending', { state: 'detached' });
      await page.screenshot({ path: join(SHOTS, 'demo-chat.png') });
      await page.close();
    });

    test('a preference changed in one page appears in a second page', async () => {
      const first = await demoPage();
      const second = await demoPage();
      const target = (await first.textContent('#theme-value')) === 'dark' ? 'light' : 'dark';
      await first.selectOption('#theme', target);
      await second.waitForSelector(`#theme-value:text-is("${target}")`);
      await second.screenshot({ path: join(SHOTS, 'demo-preference-second-page.png') });
      await first.close();
      await second.close();
    });

    test('after a kill and restart the page reconnects and shows what it missed, once', async () => {
      const page = await demoPage();
      await server.stop('SIGKILL');
      await page.waitForSelector('#status:not([data-state="open"])');
      await page.fill('#content', 'typed while the server was down');
      await page.click('#send');
      await page.waitForSelector(
        '#messages li.pending:has-text("typed while the server was down")',
      );
      await page.screenshot({ path: join(SHOTS, 'demo-reconnecting.png') });
      server = await startServer();
      await postMessage('missed while you were away 1');
      await postMessage('missed while you were away 2');
      await waitOpen(page);
      const expected = [
        'missed while you were away 1',
        'missed while you were away 2',
        'typed while the server was down',
      ];
      for (const text of expected) {
        await page.waitForSelector(`#messages li:not(.pending):has-text("${text}")`, {
          timeout: 20_000,
        });
      }
      await page.waitForSelector('#messages li.pending', { state: 'detached' });
      const texts = await page.locator('#messages li').allTextContents();
      expect(new Set(texts).size).toBe(texts.length);
      const ids = await messageIds(page);
      expect(new Set(ids).size).toBe(ids.length);
      await page.screenshot({ path: join(SHOTS, 'demo-after-restart.png') });
      await page.close();
    });

    test('opening the breaker through the admin API shows the degraded banner', async () => {
      const page = await demoPage();
      const opened = await fetch(`${server.baseUrl}/api/v1/admin/breaker/open`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(opened.status).toBe(200);
      await page.waitForSelector('#memory-banner', { state: 'visible' });
      await page.screenshot({ path: join(SHOTS, 'demo-degraded.png') });
      await fetch(`${server.baseUrl}/api/v1/admin/breaker/close`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      await page.waitForSelector('#memory-banner', { state: 'hidden' });
      await page.close();
    });

    test('a React page built from client/react.ts renders the thread and updates on push', async () => {
      const built = await Bun.build({
        entrypoints: [join(import.meta.dir, 'fixtures', 'react-app.ts')],
        target: 'browser',
        minify: true,
        define: { 'process.env.NODE_ENV': '"production"' },
      });
      expect(built.success).toBe(true);
      const script = await built.outputs[0]?.text();
      const page = (await browser.newPage()) as Page;
      // Same origin as the daemon (the Origin rule), with a page of our own.
      await page.goto(`${server.baseUrl}/healthz`);
      await page.setContent('<!doctype html><title>lifeline React</title><div id="root"></div>');
      await page.addScriptTag({ content: script ?? '', type: 'module' });
      await page.waitForSelector('#react-status[data-state="open"]', { timeout: 20_000 });
      await page.waitForSelector('#react-messages li');
      const before = await page.locator('#react-messages li').count();
      await postMessage('pushed to the React page');
      await page.waitForSelector(
        '#react-messages li:last-child:has-text("pushed to the React page")',
      );
      expect(await page.locator('#react-messages li').count()).toBe(before + 1);
      await page.screenshot({ path: join(SHOTS, 'react-thread.png') });
      await page.close();
    });
  },
);
