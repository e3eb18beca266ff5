/**
 * The demo assistant in the compiled binary (docs/protocol.md §5.5): two tabs see the same streamed
 * reply, equal to the committed assistant message; kill -9 in the middle of a reply, restart on
 * the same data, and the interrupted turn is retried (new reply id) and ends with exactly one
 * assistant message.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mintToken } from '../../src/realtime/auth.ts';
import { binaryPath, childEnv, freePort, waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { connect, type WsClient } from '../support/ws.ts';

const SECRET = 'assistant-e2e-secret-that-is-long-enough-0123';
const API_KEY = 'assistant-e2e-api-key-0123456789abcdef';
type Frame = Record<string, unknown> & { type: string };

let dir: TempDir | undefined;
afterEach(() => dir?.[Symbol.dispose]());

function serve(dataDir: string, port: number) {
  return Bun.spawn([binaryPath(), 'serve', '--port', String(port)], {
    cwd: dataDir,
    env: childEnv({
      LIFELINE_ASSISTANT_BACKEND: 'demo',
      LIFELINE_AUTH_JWT_SECRET: SECRET,
      LIFELINE_AUTH_API_KEY: API_KEY,
    }),
    stdout: 'ignore',
    stderr: 'ignore',
  });
}

async function ready(port: number): Promise<void> {
  await waitFor(async () => {
    const answer = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return answer?.status === 200;
  });
}

async function tab(port: number, query: Record<string, string> = {}) {
  const token = await mintToken({ secret: SECRET, userId: 'u1', ttlS: 600 });
  const params = new URLSearchParams({ token, thread: 't1', ...query });
  return connect<Frame & { seq: number; epoch: string }>(`ws://127.0.0.1:${port}/ws?${params}`);
}

async function untilReplyEnd(client: WsClient): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next<Frame>();
    frames.push(frame);
    if (frame.type === 'reply.end') return frames;
  }
}

const message = (content: string) => ({
  type: 'message',
  id: crypto.randomUUID(),
  thread_id: 't1',
  role: 'user',
  content,
});

describe('demo assistant in the binary', () => {
  test('two tabs receive identical deltas that make up the committed assistant message', async () => {
    dir = tempDir('lifeline-assistant-e2e');
    const port = freePort();
    const proc = serve(dir.path, port);
    try {
      await ready(port);
      const { client: a } = await tab(port);
      const { client: b } = await tab(port);
      a.send(message('what is lifeline'));
      const [framesA, framesB] = await Promise.all([untilReplyEnd(a), untilReplyEnd(b)]);
      const deltas = (frames: Frame[]) => frames.filter((f) => f.type === 'reply.delta');
      expect(deltas(framesA).length).toBeGreaterThan(3);
      expect(deltas(framesB)).toEqual(deltas(framesA));
      const end = framesA.at(-1) as Frame & { message: { content: string } };
      expect(
        deltas(framesA)
          .map((d) => d.text)
          .join(''),
      ).toBe(end.message.content);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/^lifeline_assistant_turns_total\{outcome="complete"\} 1$/m);
      expect(metrics).toMatch(/^lifeline_assistant_first_delta_seconds_count 1$/m);
      expect(metrics).toMatch(/^lifeline_assistant_streams 0$/m);
      const admin = await fetch(`http://127.0.0.1:${port}/api/v1/admin/status`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(((await admin.json()) as { assistant?: unknown }).assistant).toEqual({
        backend: 'demo',
        status: 'ok',
        circuit: 'closed',
        streaming: 0,
        queued: 0,
      });
      await a.close();
      await b.close();
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  });

  test('kill -9 mid-stream, restart: the turn is retried and ends with one assistant message', async () => {
    dir = tempDir('lifeline-assistant-e2e');
    const port = freePort();
    let proc = serve(dir.path, port);
    try {
      await ready(port);
      const { client: a, first } = await tab(port);
      a.send(message(Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ')));
      let started: Frame | undefined;
      for (let deltas = 0; deltas < 3; ) {
        const frame = await a.next<Frame>();
        if (frame.type === 'reply.start') started = frame;
        if (frame.type === 'reply.delta') deltas += 1;
      }
      proc.kill('SIGKILL');
      await proc.exited;
      await a.close().catch(() => undefined);
      proc = serve(dir.path, port);
      await ready(port);
      const { client: c } = await tab(port, { since: String(first.seq), epoch: first.epoch });
      const frames = await untilReplyEnd(c);
      const starts = frames.filter((f) => f.type === 'reply.start');
      expect(starts[0]).toEqual(started!);
      const retry = starts.at(-1)!;
      expect(retry.turn_id).toBe(started!.turn_id);
      expect(retry.reply_id).not.toBe(started!.reply_id);
      const end = frames.at(-1)!;
      expect(end).toMatchObject({ status: 'complete', reply_id: retry.reply_id });
      await c.close();
      const { first: fresh } = await tab(port);
      const threads = fresh.threads as Record<
        string,
        { messages: Array<{ role: string; id: string }> }
      >;
      const replies = threads.t1!.messages.filter((m) => m.role === 'assistant');
      expect(replies.map((m) => m.id)).toEqual([retry.reply_id as string]);
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  });
});
