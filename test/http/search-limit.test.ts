/**
 * One rule for a memory search's `limit` (1–50), over HTTP and the WebSocket alike, checked on the
 * compiled binary (whose HTTP schema coercion once let 0, -1, 51 and 1e9 through): each bad value
 * is a 400 envelope naming the parameter and the range, nothing is searched or stored, and the
 * daemon keeps serving.
 */
import { Database } from 'bun:sqlite';
import { afterEach, describe, expect, test } from 'bun:test';
import { API_KEY, type OpsServer, startServer, tokenFor } from '../daemon/harness.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { connect } from '../support/ws.ts';

let dir: TempDir | undefined;
afterEach(() => dir?.[Symbol.dispose]());

function rows(server: OpsServer, table: string): number {
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function search(server: OpsServer, limit: string) {
  const answer = await fetch(
    `${server.baseUrl}/api/v1/threads/t1/memory?query=cats&limit=${encodeURIComponent(limit)}`,
    { headers: { authorization: `Bearer ${API_KEY}` } },
  );
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

describe('the search limit', () => {
  test('HTTP and WebSocket refuse the same values with the same rule; the daemon keeps serving', async () => {
    dir = tempDir('lifeline-search-limit');
    await using server = await startServer({ dataDir: dir.path, binary: true });
    const posted = await server.api('POST', '/api/v1/threads/t1/messages', {
      user_id: 'u1',
      role: 'user',
      content: 'I like cats',
    });
    expect(posted.status).toBe(201);
    for (const limit of ['1e9', '0', '-1', '51', '0x10', '2.5', '', ' 5', '1000']) {
      const answer = await search(server, limit);
      expect([limit, answer]).toEqual([
        limit,
        {
          status: 400,
          body: {
            error: {
              code: 'bad_request',
              message: `limit: expected an integer 1..50, got ${JSON.stringify(limit)}`,
            },
          },
        },
      ]);
    }
    const { client } = await connect(`${server.wsUrl}?token=${await tokenFor('u1')}`);
    for (const limit of [0, 51, 1e9, -1, 2.5]) {
      const reply = await client.request({
        type: 'memory.query',
        id: 'q',
        thread_id: 't1',
        query: 'cats',
        limit,
      });
      expect([limit, reply]).toEqual([
        limit,
        {
          type: 'error',
          code: 'bad_request',
          message: '/limit: expected an integer 1..50',
          id: 'q',
        },
      ]);
    }
    await client.close();
    expect(rows(server, 'messages')).toBe(1);
    for (const limit of ['1', '50']) {
      const answer = await search(server, limit);
      expect(answer.status).toBe(200);
      expect((answer.body.results as unknown[]).length).toBe(1);
    }
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  });
});
