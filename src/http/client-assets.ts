/**
 * @module The client SDK served by the daemon (issue 8): `/client.js` (the bundled client/index.ts,
 * an ES module with no dependencies) with `/client.js.map`, the demo chat at `/demo` (streamed
 * answers of the assistant, Stop, the queued and assistant banners), and the same chat written
 * with the AI SDK's `useChat` at `/demo/ai-sdk` (client/examples/ai-sdk-chat.ts, bundled with React
 * as `/demo/ai-sdk.js`). All are embedded at build time (Bun macros), so the compiled binary serves
 * them with no files beside it. In development mode (no JWT key configured) `/demo/token` hands the demo page a
 * token for the user `demo`; the daemon enables it by passing `devToken`, and never otherwise.
 */
import { createHash } from 'node:crypto';
import { Elysia } from 'elysia';
import demoHtml from './assets/demo.html' with { type: 'text' };
import aiSdkHtml from './assets/demo-ai-sdk.html' with { type: 'text' };
import { bundleAiSdkDemo, bundleClient } from './bundle-client.ts' with { type: 'macro' };

// `type: 'text'` embeds the file as a string; bun-types declares *.html imports as HTMLBundle.
const demoPage = demoHtml as unknown as string;
const aiSdkPage = aiSdkHtml as unknown as string;
const bundle = bundleClient();
const aiSdkJs = bundleAiSdkDemo();

/** The user the demo page signs in as in development mode. */
const DEMO_USER_ID = 'demo';

/** Options of {@link clientAssetRoutes}. */
interface ClientAssetOptions {
  /**
   * Mints a token for {@link DEMO_USER_ID}. Pass it only in development mode (the daemon uses the
   * generated HS256 key); without it `/demo/token` answers 404 and the page asks for a token.
   */
  devToken?: () => Promise<string | undefined>;
}

/** The embedded client bundle, demo pages and AI SDK demo bundle, by size (preflight's "assets"). */
export function clientAssets(): {
  jsBytes: number;
  mapBytes: number;
  demoBytes: number;
  aiSdkPageBytes: number;
  aiSdkJsBytes: number;
} {
  return {
    jsBytes: bundle.js.length,
    mapBytes: bundle.map.length,
    demoBytes: demoPage.length,
    aiSdkPageBytes: aiSdkPage.length,
    aiSdkJsBytes: aiSdkJs.length,
  };
}

/**
 * The Content-Security-Policy of a demo page: its inline script and style by hash, scripts and the
 * WebSocket from its own origin, nothing else.
 */
export function demoPageCsp(page: string = demoPage): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${inlineHash(page, 'script')}`.trimEnd(),
    `style-src ${inlineHash(page, 'style')}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function inlineHash(page: string, tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`).exec(page);
  // An empty element (a script with `src`) is no inline code: there is nothing to allow.
  if (!match?.[1]?.trim()) return tag === 'script' ? '' : "'none'";
  // Browsers hash the text after the HTML parser turned CR LF and lone CR into LF.
  const text = (match[1] ?? '').replace(/\r\n?/g, '\n');
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * `/client.js`, `/client.js.map`, `/demo`, `/demo/ai-sdk` with `/demo/ai-sdk.js`, and `/demo/token`
 * when `devToken` is given.
 */
export function clientAssetRoutes(options: ClientAssetOptions = {}) {
  const js = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  const map = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' };
  const html = (page: string) => ({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': demoPageCsp(page),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  const demoHeaders = html(demoPage);
  const aiSdkHeaders = html(aiSdkPage);
  const devToken = options.devToken;
  // The seed keeps Elysia from treating a dev and a production instance as one plugin.
  const app = new Elysia({ name: 'lifeline-client-assets', seed: devToken !== undefined })
    .get('/client.js', () => new Response(bundle.js, { headers: js }))
    .get('/client.js.map', () => new Response(bundle.map, { headers: map }))
    .get('/demo', () => new Response(demoPage, { headers: demoHeaders }))
    .get('/demo/ai-sdk', () => new Response(aiSdkPage, { headers: aiSdkHeaders }))
    .get('/demo/ai-sdk.js', () => new Response(aiSdkJs, { headers: js }));
  return app.get('/demo/token', async () => {
    const token = devToken ? await devToken() : undefined;
    if (token === undefined) {
      return Response.json(
        { error: { code: 'not_found', message: 'the demo token exists only in development mode' } },
        { status: 404, headers: { 'cache-control': 'no-store' } },
      );
    }
    return Response.json(
      { token, user_id: DEMO_USER_ID },
      { headers: { 'cache-control': 'no-store' } },
    );
  });
}
