/**
 * @module An assistant built on the real AI SDK (`ai`): `streamText` over the package's own mock
 * language model, answered with `result.toUIMessageStreamResponse()` — a UI message stream
 * producer nobody here wrote. Every request is verified with `standardwebhooks` first (401 when
 * the signature is bad); the reply is `text` streamed as the given deltas.
 */
import { simulateReadableStream, streamText } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { Webhook } from 'standardwebhooks';

/** A running AI SDK assistant. */
export interface AiBackend {
  url: string;
  /** The bodies of the verified requests, parsed. */
  readonly bodies: unknown[];
  /** Requests whose signature failed verification. */
  readonly rejected: number;
  stop(): Promise<void>;
}

const USAGE = {
  inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** The mock model: streams `deltas` as one text block, `chunkDelayMs` apart. */
function mockModel(deltas: readonly string[], chunkDelayMs: number): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doStream: async () => ({
      stream: simulateReadableStream({
        chunkDelayInMs: chunkDelayMs,
        chunks: [
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 'text-1' },
          ...deltas.map((delta) => ({ type: 'text-delta' as const, id: 'text-1', delta })),
          { type: 'text-end', id: 'text-1' },
          { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: USAGE },
        ],
      }),
    }),
  });
}

/** Starts the AI SDK assistant on 127.0.0.1; its reply is `deltas` joined. */
export function startAiBackend(
  secret: string,
  deltas: readonly string[],
  chunkDelayMs = 0,
): AiBackend {
  const webhook = new Webhook(secret);
  const bodies: unknown[] = [];
  let rejected = 0;
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const raw = await request.text();
      let body: { message?: { content?: string } };
      try {
        body = webhook.verify(raw, Object.fromEntries(request.headers)) as typeof body;
      } catch {
        rejected += 1;
        return new Response('bad signature', { status: 401 });
      }
      bodies.push(body);
      const result = streamText({
        model: mockModel(deltas, chunkDelayMs),
        prompt: body.message?.content ?? 'hello',
        abortSignal: request.signal,
      });
      return result.toUIMessageStreamResponse();
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/chat`,
    bodies,
    get rejected() {
      return rejected;
    },
    async stop() {
      await server.stop(true);
    },
  };
}
