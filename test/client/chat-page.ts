/**
 * @module The two demo chats (`/demo` and `/demo/ai-sdk`) as the Chromium tests read them: the same
 * element ids and data attributes, so one set of tests drives both. Every wait is on a condition.
 */
import { expect } from 'bun:test';
import type { BrowserPage } from '../support/browser.ts';
import { waitFor } from '../support/spawn.ts';

/** The parts of playwright's Page beyond test/support/browser.ts that these tests use. */
export interface ChatPage extends BrowserPage {
  close(): Promise<void>;
  reload(): Promise<unknown>;
  route(
    url: string,
    handler: (route: {
      fulfill(response: { status?: number; contentType?: string; body: string }): Promise<void>;
    }) => unknown,
  ): Promise<void>;
  /** Selectors need no eval, so they work under the demo pages' CSP (no 'unsafe-eval'). */
  waitForSelector(
    selector: string,
    options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number },
  ): Promise<unknown>;
  locator(selector: string): {
    evaluateAll<T>(fn: (elements: Element[]) => T): Promise<T>;
    getAttribute(name: string): Promise<string | null>;
  };
}

/** What one assistant item shows: its text (after the role label) and whether it still streams. */
export interface ShownReply {
  text: string;
  streaming: boolean;
}

/** The demo assistant's whole answer to `content` (memory has nothing related in a fresh thread). */
export const demoAnswer = (content: string) =>
  `You said: “${content}”. This is the demo assistant; set assistant.backend = "http" to answer with your own.`;

/** A message long enough that its answer streams for several seconds (~20 words a second). */
export const longMessage = (tag: string) =>
  Array.from({ length: 90 }, (_, i) => `${tag}${i + 1}`).join(' ');

/** The assistant items on the page, in order (the queued placeholder is not one). */
export function shownReplies(page: ChatPage): Promise<ShownReply[]> {
  return page
    .locator('#messages li[data-role="assistant"]:not(.queued):not(.failed)')
    .evaluateAll((items) =>
      items.map((item) => ({
        text: item.childNodes[1]?.textContent ?? '',
        streaming: item.classList.contains('streaming'),
      })),
    );
}

/** Waits until the page shows an assistant reply streaming with more than `chars` characters. */
export async function waitStreaming(page: ChatPage, chars = 0): Promise<string> {
  let text = '';
  await waitFor(async () => {
    const reply = (await shownReplies(page)).at(-1);
    text = reply?.streaming ? reply.text : '';
    return text.length > chars;
  }, 20_000);
  return text;
}

/** Waits until the page shows exactly one assistant message, not streaming; returns its text. */
export async function waitOneAnswer(page: ChatPage, timeoutMs = 20_000): Promise<string> {
  let shown: ShownReply[] = [];
  await waitFor(async () => {
    shown = await shownReplies(page);
    return shown.length >= 1 && !shown.some((reply) => reply.streaming);
  }, timeoutMs);
  expect(shown).toHaveLength(1);
  return shown[0]?.text ?? '';
}

/** Types `content` into the composer and sends it. */
export async function sendFromPage(page: ChatPage, content: string): Promise<void> {
  await page.fill('#content', content);
  await page.click('#send');
}

/** The connection pill says open (the first snapshot arrived). */
export const waitOpen = (page: ChatPage) =>
  page.waitForSelector('#status[data-state="open"]', { timeout: 20_000 });
