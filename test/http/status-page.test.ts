/**
 * The operator status page (docs/design.md#http-api): served at `/` from the embedded asset with a
 * strict CSP whose hashes match the inline script and style, and with no way for it to load
 * anything external.
 */
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { statusPageAsset, statusPageCsp, statusPageRoutes } from '../../src/http/status-page.ts';

/** Text of every `<tag>` element, extracted with Bun's HTML parser (independent of the regex). */
async function elementTexts(page: string, tag: string): Promise<string[]> {
  const texts: string[] = [];
  let current: string | undefined;
  const rewriter = new HTMLRewriter().on(tag, {
    element(element) {
      current = '';
      element.onEndTag(() => {
        texts.push(current ?? '');
        current = undefined;
      });
    },
    text(chunk) {
      if (current !== undefined) current += chunk.text;
    },
  });
  await rewriter.transform(new Response(page)).text();
  return texts;
}

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name, values);
  }
  return map;
}

describe('statusPageRoutes', () => {
  test('serves the embedded page at / as HTML with a strict CSP', async () => {
    const app = statusPageRoutes();
    // Not 'http://x/': Elysia finds the path by searching for '/' from index 11, so a host shorter
    // than 4 characters makes every route 404 in app.handle().
    const res = await app.handle(new Request('http://localhost/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = directives(res.headers.get('content-security-policy') ?? '');
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    const body = await res.text();
    expect(body).toBe(statusPageAsset());
    expect(body).toContain('id="breaker-state"');
  });

  test('answers /favicon.ico with an empty 204 instead of a logged 404', async () => {
    const res = await statusPageRoutes().handle(new Request('http://localhost/favicon.ico'));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  test('pins the inline script and style by the hashes a browser computes', async () => {
    const page = statusPageAsset();
    const csp = directives(statusPageCsp());
    const scripts = await elementTexts(page, 'script');
    const styles = await elementTexts(page, 'style');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(csp.get('script-src')).toEqual(scripts.map(sha256Source));
    expect(csp.get('style-src')).toEqual(styles.map(sha256Source));
  });

  test('hashes CR LF line endings as the LF a browser sees', () => {
    const lf = statusPageCsp('<script>a\nb</script><style>p{}</style>');
    const crlf = statusPageCsp('<script>a\r\nb</script><style>p{}</style>');
    expect(crlf).toBe(lf);
  });

  test('allows no script at all when the page has none', () => {
    expect(directives(statusPageCsp('<p>hi</p>')).get('script-src')).toEqual(["'none'"]);
  });
});

describe('status page asset', () => {
  const page = statusPageAsset();

  test('has an inline script that compiles', async () => {
    const [script] = await elementTexts(page, 'script');
    expect(() => new Function(script ?? 'syntax error (')).not.toThrow();
  });

  test('loads nothing from another origin', () => {
    expect(page).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(page).not.toMatch(/@import|url\(/i);
    expect(page).not.toMatch(/<(?:link|iframe|img|object|embed)\b/i);
  });

  test('never writes markup from strings (no innerHTML, outerHTML, insertAdjacentHTML, eval)', () => {
    expect(page).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  test('keeps the key in sessionStorage only and polls the admin status with a bearer header', () => {
    expect(page).not.toContain('localStorage');
    expect(page).not.toContain('document.cookie');
    expect(page).toContain('sessionStorage.setItem(STORAGE_KEY');
    expect(page).toContain("'/api/v1/admin/status'");
    expect(page).toContain(`Authorization: \`Bearer ${'$'}{key}\``);
    expect(page).toContain('const POLL_MS = 2000;');
  });

  test('handles 401 by asking again and 503 by explaining the disabled admin API', () => {
    expect(page).toMatch(/res\.status === 401\)[\s\S]{0,120}sessionStorage\.removeItem/);
    expect(page).toMatch(/res\.status === 503\)[\s\S]{0,80}show\('disabled'\)/);
    expect(page).toContain('no\n      <code>auth.api_key</code> configured');
  });

  test('has the elements a browser test drives', async () => {
    const ids: string[] = [];
    await new HTMLRewriter()
      .on('[id]', {
        element(element) {
          ids.push(element.getAttribute('id') ?? '');
        },
      })
      .transform(new Response(page))
      .text();
    for (const id of ['api-key', 'connect', 'breaker-state', 'memory-status', 'transitions']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
