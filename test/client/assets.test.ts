import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { clientAssetRoutes, clientAssets, demoPageCsp } from '../../src/http/client-assets.ts';

// Hosts shorter than 4 characters make every route 404 in app.handle() (docs/runtime.md#elysia-ws).
describe('clientAssetRoutes', () => {
  test('serves the bundled client as JavaScript with a linked source map', async () => {
    const app = clientAssetRoutes();
    const js = await app.handle(new Request('http://localhost/client.js'));
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const text = await js.text();
    expect(text).toContain('sourceMappingURL=client.js.map');
    // Zero runtime dependencies: nothing left to import.
    expect(text).not.toMatch(/\bimport\s*[{*"']/);
    const map = (await (
      await app.handle(new Request('http://localhost/client.js.map'))
    ).json()) as {
      sources: string[];
    };
    expect(map.sources.some((s) => s.endsWith('client/connection.ts'))).toBe(true);
    expect(clientAssets().jsBytes).toBe(text.length);
  });

  test('pins the demo page inline script by hash in its CSP', async () => {
    const page = await (
      await clientAssetRoutes().handle(new Request('http://localhost/demo'))
    ).text();
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    const hash = createHash('sha256').update(script).digest('base64');
    expect(demoPageCsp()).toContain(`'sha256-${hash}'`);
    expect(demoPageCsp()).not.toContain('unsafe');
  });

  test('answers /demo/token with 404 unless the daemon passes devToken', async () => {
    const off = await clientAssetRoutes().handle(new Request('http://localhost/demo/token'));
    expect(off.status).toBe(404);
    const none = await clientAssetRoutes({ devToken: async () => undefined }).handle(
      new Request('http://localhost/demo/token'),
    );
    expect(none.status).toBe(404);
    const on = await clientAssetRoutes({ devToken: async () => 'tok' }).handle(
      new Request('http://localhost/demo/token'),
    );
    expect(on.status).toBe(200);
    expect(on.headers.get('cache-control')).toBe('no-store');
    expect(await on.json()).toEqual({ token: 'tok', user_id: 'demo' });
  });
});

describe('the AI SDK demo page', () => {
  test('serves /demo/ai-sdk with a CSP that allows its own-origin bundle and nothing inline', async () => {
    const app = clientAssetRoutes();
    const page = await app.handle(new Request('http://localhost/demo/ai-sdk'));
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('src="/demo/ai-sdk.js"');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'sha256-");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe');
  });

  test('serves the page bundle as one self-contained module with React production code', async () => {
    const js = await clientAssetRoutes().handle(new Request('http://localhost/demo/ai-sdk.js'));
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const text = await js.text();
    expect(text).not.toMatch(/\bimport\s*[{*"']/);
    expect(text).toContain('/demo/token');
    // The production build: React's development warnings are not in it.
    expect(text).not.toContain('Invalid hook call');
    expect(clientAssets().aiSdkJsBytes).toBe(text.length);
  });
});
