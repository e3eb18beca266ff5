/**
 * Headless Chromium for browser tests (the status page): Debian's /usr/bin/chromium driven by
 * playwright-core, which never downloads a browser of its own. Returns undefined when either is
 * missing, so a test can say what to install instead of failing obscurely.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's chromium package puts its launcher here (.ci/run installs it). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags every run uses: headless, no sandbox (root in CI), and no background traffic. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The few parts of playwright-core's Page the tests use (typed here: the package is optional). */
export interface BrowserPage {
  goto(url: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  textContent(selector: string): Promise<string | null>;
  waitForFunction(fn: string, arg?: unknown, options?: { timeout?: number }): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: 'console' | 'pageerror', listener: (value: unknown) => void): void;
}

/** A launched browser with its own fresh profile; disposing closes it and removes the profile. */
export interface LaunchedBrowser extends AsyncDisposable {
  newPage(): Promise<BrowserPage>;
  close(): Promise<void>;
}

interface PersistentContext {
  newPage(): Promise<BrowserPage>;
  close(): Promise<void>;
}

interface PlaywrightCore {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: { executablePath: string; headless: boolean; args: string[] },
    ): Promise<PersistentContext>;
  };
}

/** Why {@link launchChromium} returned undefined, for the test's skip or failure message. */
export function chromiumMissingReason(): string | undefined {
  if (!existsSync(CHROMIUM_PATH)) return `${CHROMIUM_PATH} is missing: apt-get install chromium`;
  try {
    Bun.resolveSync('playwright-core', import.meta.dir);
    return undefined;
  } catch {
    return 'playwright-core is not installed (add it to devDependencies)';
  }
}

/**
 * Launches Debian's Chromium through playwright-core with a fresh `--user-data-dir` (playwright
 * passes it from `launchPersistentContext`). Returns undefined when Chromium or playwright-core
 * is not installed.
 */
export async function launchChromium(): Promise<LaunchedBrowser | undefined> {
  if (chromiumMissingReason() !== undefined) return undefined;
  // A variable specifier keeps tsc from requiring the optional package's types.
  const specifier = 'playwright-core';
  const playwright = (await import(specifier)) as PlaywrightCore;
  const profile = mkdtempSync(join(tmpdir(), 'lifeline-chromium-'));
  let context: PersistentContext;
  try {
    context = await playwright.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS],
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await context.close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  return { newPage: () => context.newPage(), close, [Symbol.asyncDispose]: close };
}

/**
 * Where browser tests save screenshots: `docs/screenshots/` when `UPDATE_SCREENSHOTS=1` (to
 * refresh the pictures the docs show), else a temp dir, so a plain test run leaves the tree clean.
 */
export function screenshotDir(): string {
  const { mkdirSync } = require('node:fs') as typeof import('node:fs');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const { join, resolve } = require('node:path') as typeof import('node:path');
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? resolve(import.meta.dir, '..', '..', 'docs', 'screenshots')
      : join(tmpdir(), 'lifeline-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
