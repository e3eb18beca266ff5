/**
 * Real browser, streamed answers: Debian's Chromium (playwright-core) against the compiled binary,
 * alone in an empty directory, in development mode with the demo assistant (~20 words a second).
 * The same tests drive `/demo` (client state, cancelReply) and `/demo/ai-sdk` (useChat with
 * lifelineTransport): an answer streams and a second page shows the same text; a reload mid-answer
 * shows the text so far at once and ends with the full answer; Stop keeps the partial text; a
 * daemon killed and restarted mid-answer ends with a complete answer; and the AI SDK page under
 * React.StrictMode (React's development build) resumes twice and shows the text once.
 * Screenshots go to docs/screenshots/ with UPDATE_SCREENSHOTS=1. Waits are on conditions.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromiumMissingReason,
  type LaunchedBrowser,
  launchChromium,
  screenshotDir,
} from '../support/browser.ts';
import { binaryPath, freePort, waitFor } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';
import { toolReady } from '../support/tools.ts';
import {
  type ChatPage,
  demoAnswer,
  longMessage,
  sendFromPage,
  shownReplies,
  waitOneAnswer,
  waitOpen,
  waitStreaming,
} from './chat-page.ts';
import { type DaemonProcess, startDaemon } from './daemon.ts';

const SHOTS = screenshotDir();
const skipReason = toolReady('the browser tests', chromiumMissingReason())
  ? undefined
  : 'no Chromium';

/** The two pages under test, by path, with the screenshot name prefix of each. */
const PAGES = [
  { name: 'the /demo page', path: '/demo', shot: 'demo' },
  { name: 'the /demo/ai-sdk page (useChat)', path: '/demo/ai-sdk', shot: 'demo-ai-sdk' },
] as const;

describe.skipIf(skipReason !== undefined)(
  `streamed answers in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`,
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
        env: { LIFELINE_ASSISTANT_BACKEND: 'demo' },
      });

    beforeAll(async () => {
      dir = tempDir('lifeline-client-browser-stream');
      binary = join(dir.path, 'lifeline');
      copyFileSync(binaryPath(), binary);
      port = freePort();
      server = await startServer();
      const launched = await launchChromium();
      if (!launched) throw new Error('chromium did not start');
      browser = launched;
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.[Symbol.asyncDispose]();
      dir?.[Symbol.dispose]();
    });

    async function open(path: string, thread: string): Promise<ChatPage> {
      const page = (await browser.newPage()) as ChatPage;
      await page.goto(`${server.baseUrl}${path}?thread=${thread}`);
      await waitOpen(page);
      return page;
    }

    for (const kind of PAGES) {
      const thread = (test: string) => `${kind.shot}-${test}`;

      describe(kind.name, () => {
        test('streams an answer, and a second page shows the same text while it streams', async () => {
          const a = await open(kind.path, thread('two'));
          const b = await open(kind.path, thread('two'));
          const content = longMessage('two');
          const final = demoAnswer(content);
          await sendFromPage(a, content);
          const seen: Array<[string, string]> = [];
          await waitFor(async () => {
            const [ra, rb] = [(await shownReplies(a)).at(-1), (await shownReplies(b)).at(-1)];
            if (ra?.streaming && rb?.streaming) seen.push([ra.text, rb.text]);
            return seen.filter(([x, y]) => x.length > 40 && y.length > 40).length >= 3;
          }, 20_000);
          await a.screenshot({ path: join(SHOTS, `${kind.shot}-streaming.png`) });
          // Both grow along the one answer: at every moment the shorter is the start of the longer.
          for (const [x, y] of seen) {
            expect(final.startsWith(x) && final.startsWith(y)).toBe(true);
            expect(x.length < final.length && y.length < final.length).toBe(true);
          }
          expect(new Set(seen.map(([x]) => x)).size).toBeGreaterThan(1);
          expect(await waitOneAnswer(a)).toBe(final);
          expect(await waitOneAnswer(b)).toBe(final);
          await a.close();
          await b.close();
        });

        test('a reload mid-answer shows the text so far at once and ends with the full answer', async () => {
          const page = await open(kind.path, thread('reload'));
          const content = longMessage('reload');
          const final = demoAnswer(content);
          await sendFromPage(page, content);
          const before = await waitStreaming(page, 60);
          await page.reload();
          await waitOpen(page);
          let first = '';
          await waitFor(async () => {
            first = (await shownReplies(page)).at(-1)?.text ?? '';
            return first.length > 0;
          }, 20_000);
          expect(first.length).toBeGreaterThanOrEqual(before.length);
          expect(final.startsWith(first)).toBe(true);
          expect(await waitOneAnswer(page)).toBe(final);
          await page.close();
        });

        test('Stop ends the answer and keeps the partial text', async () => {
          const page = await open(kind.path, thread('stop'));
          const content = longMessage('stop');
          const final = demoAnswer(content);
          await sendFromPage(page, content);
          await waitStreaming(page, 30);
          await page.click('#stop');
          const kept = await waitOneAnswer(page);
          expect(kept.length).toBeGreaterThan(30);
          expect(kept.length).toBeLessThan(final.length);
          expect(final.startsWith(kept)).toBe(true);
          await page.waitForSelector('#stop', { state: 'hidden' });
          await page.screenshot({ path: join(SHOTS, `${kind.shot}-stopped.png`) });
          // The server committed it: a fresh page shows the same partial answer.
          const again = await open(kind.path, thread('stop'));
          expect(await waitOneAnswer(again)).toBe(kept);
          await again.close();
          await page.close();
        });

        test('the daemon killed and restarted mid-answer: the page reconnects and shows it complete', async () => {
          const page = await open(kind.path, thread('kill'));
          const content = longMessage('kill');
          await sendFromPage(page, content);
          await waitStreaming(page, 30);
          await server.stop('SIGKILL');
          await page.waitForSelector('#status:not([data-state="open"])');
          server = await startServer();
          await waitOpen(page);
          expect(await waitOneAnswer(page, 30_000)).toBe(demoAnswer(content));
          await page.close();
        }, 60_000);
      });
    }

    test('/demo shows a message sent while an answer streams as queued', async () => {
      const page = await open('/demo', 'demo-queued');
      await sendFromPage(page, longMessage('first'));
      await waitStreaming(page);
      await sendFromPage(page, 'and a second question');
      await page.waitForSelector('#messages li.queued', { timeout: 20_000 });
      await page.screenshot({ path: join(SHOTS, 'demo-queued.png') });
      await page.click('#stop');
      await page.waitForSelector('#messages li.queued', { state: 'detached', timeout: 20_000 });
      await page.close();
    });

    test('/demo/ai-sdk under React.StrictMode: two resumes after a reload, the text once', async () => {
      const built = await Bun.build({
        entrypoints: [join(import.meta.dir, '..', '..', 'client', 'examples', 'ai-sdk-chat.ts')],
        target: 'browser',
        define: { 'process.env.NODE_ENV': '"development"' },
      });
      expect(built.success).toBe(true);
      const script = (await built.outputs[0]?.text()) ?? '';
      const page = (await browser.newPage()) as ChatPage;
      // The served page with React's development build in place of the production bundle.
      await page.route('**/demo/ai-sdk.js', (route) =>
        route.fulfill({ status: 200, contentType: 'text/javascript', body: script }),
      );
      await page.goto(`${server.baseUrl}/demo/ai-sdk?thread=strict`);
      await waitOpen(page);
      const content = longMessage('strict');
      const final = demoAnswer(content);
      await sendFromPage(page, content);
      await waitStreaming(page, 60);
      await page.reload();
      await waitOpen(page);
      await waitStreaming(page);
      expect(
        Number(await page.locator('body').getAttribute('data-resumes')),
      ).toBeGreaterThanOrEqual(2);
      expect(await waitOneAnswer(page)).toBe(final);
      const texts = (await shownReplies(page)).map((reply) => reply.text);
      expect(texts).toEqual([final]);
      await page.close();
    }, 60_000);
  },
);
