/**
 * Deferred replies in the compiled binary (docs/protocol.md §5.5, docs/assistant.md "Deferred
 * replies"): the backend answers 202 and uploads the reply later with
 * `POST /api/v1/turns/:id/reply` — an upload cut midway keeps what arrived, GET shows its offset,
 * a wrong `?offset` is answered 409 `offset_mismatch`, the right one completes the reply; SSE and
 * JSON uploads too.
 */
import { describe, expect, test } from 'bun:test';
import { connect as connectTcp } from 'node:net';
import { sseEvent, startAssistantBackend, uiParts } from '../support/assistant-backend.ts';
import {
  API_KEY,
  cleanUpAfterEach,
  deferCleanup,
  readTurn,
  sendUser,
  serve,
  serveEnv,
  tab,
  textOf,
  turnRequests,
  untilEndOf,
  WHSEC,
} from '../support/assistant-e2e.ts';
import type { ServeProcess } from '../support/serve.ts';
import { freePort, waitFor } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';

cleanUpAfterEach();

const bytes = (text: string) => new TextEncoder().encode(text).length;

async function deferredDaemon() {
  const backend = await startAssistantBackend(WHSEC);
  deferCleanup(() => backend.stop());
  await backend.setMode({ kind: 'deferred' });
  const dir = tempDir('lifeline-assistant-deferred');
  deferCleanup(() => dir[Symbol.dispose]());
  const proc = await serve(dir, freePort(), serveEnv(backend.url));
  const { client } = await tab(proc);
  return { backend, proc, client };
}

function postReply(
  proc: ServeProcess,
  turnId: string,
  type: string,
  body: string,
  offset?: number,
) {
  const query = offset === undefined ? '' : `?offset=${offset}`;
  return fetch(`${proc.baseUrl}/api/v1/turns/${turnId}/reply${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': type },
    body,
  });
}

/** Starts a chunked text/plain upload over a bare socket, sends `part`, and returns a cut(). */
function startCutUpload(proc: ServeProcess, turnId: string, part: string) {
  const socket = connectTcp(proc.port, '127.0.0.1');
  const chunk = Buffer.from(part);
  socket.write(
    `POST /api/v1/turns/${turnId}/reply HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
      `authorization: Bearer ${API_KEY}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `transfer-encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n`,
  );
  socket.write(chunk);
  socket.write('\r\n');
  return () => socket.destroy();
}

async function whenDeferred(proc: ServeProcess, turnId: string): Promise<void> {
  await waitFor(async () => (await readTurn(proc, turnId)).body.status === 'deferred');
}

describe('deferred replies', () => {
  test('a cut upload keeps its text, a wrong offset is 409 offset_mismatch, the right offset completes the reply', async () => {
    const { backend, proc, client } = await deferredDaemon();
    const turnId = await sendUser(client, 'take your time');
    await whenDeferred(proc, turnId);
    expect(turnRequests(backend).length).toBe(1);
    const part1 = 'The first half — with ünïcode, ';
    const part2 = 'and the second half.';
    const cut = startCutUpload(proc, turnId, part1);
    await waitFor(async () => (await readTurn(proc, turnId)).body.offset === bytes(part1));
    cut();
    // Once the cut upload is over, a wrong offset is refused with the offset lifeline holds.
    let refused: { status: number; body: Record<string, unknown> } | undefined;
    await waitFor(async () => {
      const answer = await postReply(proc, turnId, 'text/plain', part2, 0);
      refused = { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
      return (refused.body.error as { code?: string } | undefined)?.code === 'offset_mismatch';
    });
    expect(refused).toEqual({
      status: 409,
      body: {
        error: { code: 'offset_mismatch', message: expect.any(String) },
        offset: bytes(part1),
      },
    });
    const shown = await readTurn(proc, turnId);
    expect(shown.body).toMatchObject({ status: 'deferred', text: part1, offset: bytes(part1) });
    const resumed = await postReply(proc, turnId, 'text/plain', part2, bytes(part1));
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: 'complete' });
    const { frames, end } = await untilEndOf(client, turnId);
    expect(textOf(frames)).toBe(part1 + part2);
    expect(end.status).toBe('complete');
    expect(end.message?.content).toBe(part1 + part2);
  });

  test('an SSE upload and a JSON upload each complete their deferred turn', async () => {
    const { proc, client } = await deferredDaemon();
    const sseTurn = await sendUser(client, 'stream it later');
    await whenDeferred(proc, sseTurn);
    const stream = [...uiParts(['streamed ', 'later']).map(sseEvent), 'data: [DONE]\n\n'].join('');
    const sseAnswer = await postReply(proc, sseTurn, 'text/event-stream', stream);
    expect(sseAnswer.status).toBe(200);
    const sse = await untilEndOf(client, sseTurn);
    expect(sse.end).toMatchObject({ status: 'complete', message: { content: 'streamed later' } });
    expect(textOf(sse.frames)).toBe('streamed later');

    const jsonTurn = await sendUser(client, 'answer in JSON later');
    await whenDeferred(proc, jsonTurn);
    const body = JSON.stringify({ content: 'a JSON reply', metadata: { via: 'worker' } });
    const jsonAnswer = await postReply(proc, jsonTurn, 'application/json', body);
    expect(jsonAnswer.status).toBe(200);
    const json = await untilEndOf(client, jsonTurn);
    expect(json.end).toMatchObject({
      status: 'complete',
      message: { content: 'a JSON reply', metadata: { via: 'worker' } },
    });
    // A turn that has ended takes no further upload.
    const again = await postReply(proc, jsonTurn, 'text/plain', 'more');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'turn_not_deferred' } });
  });
});
