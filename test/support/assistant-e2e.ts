/**
 * @module What the end-to-end tests of the HTTP assistant share (docs/assistant.md): the daemon's
 * environment for `assistant.backend = "http"`, a compiled binary started on a temp data dir, tabs
 * of a user on threads, reading frames until a condition, and the turn requests a test backend saw.
 */
import { afterEach } from 'bun:test';
import { mintToken } from '../../src/realtime/auth.ts';
import type { AssistantBackend, RecordedRequest } from './assistant-backend.ts';
import { apiCall, type ServeProcess, startServe } from './serve.ts';
import { binaryPath, waitFor } from './spawn.ts';
import type { TempDir } from './temp.ts';
import { connect, type WsClient } from './ws.ts';

export const JWT = 'assistant-http-e2e-secret-long-enough-0123456';
export const API_KEY = 'assistant-http-e2e-api-key-0123456789';
/** A Standard Webhooks secret: whsec_ + base64 of 24 random bytes. */
export const WHSEC = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`;

export type Frame = Record<string, unknown> & { type: string };
/** A `reply.end` frame. */
export type EndFrame = Frame & {
  seq: number;
  turn_id: string;
  reply_id: string;
  status: string;
  text?: string;
  message?: { id: string; role: string; content: string };
  error?: { code: string; message: string };
};

const cleanups: Array<() => Promise<unknown> | unknown> = [];

/** Registers the after-each cleanup of the file that calls it (once, at load). */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
}

/** Runs `cleanup` after the current test. */
export function deferCleanup(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(cleanup);
}

/** The daemon's environment for the HTTP assistant at `url`. */
export function serveEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LIFELINE_ASSISTANT_BACKEND: 'http',
    LIFELINE_ASSISTANT_URL: url,
    LIFELINE_ASSISTANT_SECRET: WHSEC,
    LIFELINE_AUTH_JWT_SECRET: JWT,
    LIFELINE_AUTH_API_KEY: API_KEY,
    ...extra,
  };
}

/** The compiled binary serving `dir` on `port`, killed after the test. */
export async function serve(
  dir: TempDir,
  port: number,
  env: Record<string, string>,
): Promise<ServeProcess> {
  const proc = await startServe({ command: [binaryPath()], port, dataDir: dir.path, env });
  cleanups.push(() => proc.stop('SIGKILL'));
  return proc;
}

/** A tab of `user` on `threads` (default u1 on t1); its first frame is the `rehydrate`. */
export async function tab(
  proc: ServeProcess,
  options: { user?: string; threads?: string[]; query?: Record<string, string> } = {},
) {
  const token = await mintToken({ secret: JWT, userId: options.user ?? 'u1', ttlS: 600 });
  const params = new URLSearchParams({ token, ...options.query });
  for (const thread of options.threads ?? ['t1']) params.append('thread', thread);
  const opened = await connect<Frame & { seq: number; epoch: string }>(`${proc.wsUrl}?${params}`);
  cleanups.push(() => opened.client.close());
  return opened;
}

/** Frames of `client` up to and including the first for which `done` holds. */
export async function until(client: WsClient, done: (frame: Frame) => boolean): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next<Frame>();
    frames.push(frame);
    if (done(frame)) return frames;
  }
}

export const isEnd = (frame: Frame) => frame.type === 'reply.end';
export const deltasOf = (frames: Frame[]) => frames.filter((f) => f.type === 'reply.delta');
export const textOf = (frames: Frame[]) =>
  deltasOf(frames)
    .map((d) => d.text)
    .join('');

/** Frames up to the `reply.end` of `turnId`; returns them and that end. */
export async function untilEndOf(
  client: WsClient,
  turnId: string,
): Promise<{ frames: Frame[]; end: EndFrame }> {
  const frames = await until(client, (f) => isEnd(f) && f.turn_id === turnId);
  return { frames, end: frames.at(-1) as EndFrame };
}

/** A `message` frame of role user on `thread`. */
export const userMessage = (content: string, thread = 't1') => ({
  type: 'message',
  id: crypto.randomUUID(),
  thread_id: thread,
  role: 'user',
  content,
});

/** Sends a user message and returns the turn id its `ack` names (throws on anything else). */
export async function sendUser(client: WsClient, content: string, thread = 't1'): Promise<string> {
  const frame = userMessage(content, thread);
  client.send(frame);
  const ack = (await until(client, (f) => f.id === frame.id)).at(-1) as Frame;
  if (ack.type !== 'ack' || typeof ack.turn_id !== 'string') {
    throw new Error(`expected an ack with a turn_id, got ${JSON.stringify(ack)}`);
  }
  return ack.turn_id;
}

/** The `type: "turn"` requests `backend` received. */
export function turnRequests(backend: AssistantBackend): RecordedRequest[] {
  return backend.requests.filter((r) => (r.body as { type?: string } | undefined)?.type === 'turn');
}

/** The turn id of a recorded turn request. */
export const turnIdOf = (request: RecordedRequest) => (request.body as { turn_id: string }).turn_id;

/** GET /api/v1/turns/:id as status and JSON. */
export async function readTurn(proc: ServeProcess, turnId: string) {
  const answer = await apiCall(proc.baseUrl, API_KEY, 'GET', `/api/v1/turns/${turnId}`);
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

/** The messages of `thread` of u1, from the state API. */
export async function threadMessages(
  proc: ServeProcess,
  thread = 't1',
): Promise<Array<{ id: string; role: string; content: string }>> {
  const state = await apiCall(
    proc.baseUrl,
    API_KEY,
    'GET',
    `/api/v1/users/u1/state?thread=${thread}`,
  );
  const body = (await state.json()) as {
    threads: Record<string, { messages: Array<{ id: string; role: string; content: string }> }>;
  };
  return body.threads[thread]?.messages ?? [];
}

/** Waits until `client` has received (read or not) a frame for which `match` holds. */
export async function received(
  client: WsClient,
  match: (frame: Frame) => boolean,
  timeoutMs = 20_000,
): Promise<Frame> {
  await waitFor(() => client.frames.some((f) => match(f as Frame)), timeoutMs);
  return client.frames.find((f) => match(f as Frame)) as Frame;
}
