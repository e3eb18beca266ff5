/**
 * Bodies against the compiled binary: a request without the API key is refused from its headers,
 * while the client is still sending, so eight 120 MB uploads leave the daemon's RSS where it was
 * and /healthz answering; with the key, a body over `server.max_payload_bytes` is cut off at the
 * limit with 413 and the envelope. Nothing is stored either way.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { API_KEY, type OpsServer, openReadOnly, startServer } from '../daemon/harness.ts';
import {
  jsonOf,
  type RawAnswer,
  rawRequest,
  stalledUpload,
  streamUpload,
  type UploadOutcome,
} from '../support/raw-http.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

const MB = 1024 * 1024;
const UPLOAD = 120 * MB;
/** How far RSS may grow while the uploads are refused: far below one upload. */
const RSS_GROWTH_LIMIT = 48 * MB;

let dir: TempDir;
let server: OpsServer;

beforeAll(async () => {
  dir = tempDir('lifeline-bodies');
  server = await startServer({ dataDir: dir.path, binary: true });
});

afterAll(async () => {
  await server?.stop();
  dir?.[Symbol.dispose]();
});

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

function preferencesRows(): number {
  const db = openReadOnly(server.dbPath);
  try {
    return (db.query('SELECT count(*) AS n FROM user_preferences').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const head = (extra: string) =>
  `PUT /api/v1/users/u1/preferences HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
  `Content-Type: application/json\r\n${extra}\r\n`;

function expectEnvelope(outcome: UploadOutcome, status: number, code: string) {
  expect(outcome.answer?.status).toBe(status);
  expect((jsonOf(outcome.answer as RawAnswer) as { error: { code: string } }).error.code).toBe(
    code,
  );
  // How much the client had written by then depends on scheduling (a busy machine lets it write
  // all 120 MB first); that the answer needs no body is the stalled-upload test's job.
  expect(outcome.sentWhenAnswered).toBeGreaterThanOrEqual(0);
}

describe('request bodies', () => {
  test('eight unauthenticated 120 MB uploads are refused unread; RSS stays flat; /healthz answers', async () => {
    const before = rssBytes(server.pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(server.pid));
    }, 20);
    try {
      const uploads = Array.from({ length: 8 }, () =>
        streamUpload(server.port, head('Transfer-Encoding: chunked\r\n'), UPLOAD, true),
      );
      const health = await fetch(`${server.baseUrl}/healthz`);
      expect(health.status).toBe(200);
      for (const outcome of await Promise.all(uploads)) {
        expectEnvelope(outcome, 401, 'unauthorized');
      }
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssBytes(server.pid));
    expect(peak - before).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(preferencesRows()).toBe(0);
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  }, 120_000);

  test('the refusal needs no body: an upload that stops after 1 MB still gets 401 or 413', async () => {
    // A server that read the body before checking would wait here for the rest, forever.
    const unkeyed = await stalledUpload(
      server.port,
      head('Transfer-Encoding: chunked\r\n'),
      MB,
      10_000,
    );
    expect(unkeyed?.status).toBe(401);
    const keyed = await stalledUpload(
      server.port,
      head(`Authorization: Bearer ${API_KEY}\r\nTransfer-Encoding: chunked\r\n`),
      MB,
      10_000,
    );
    expect(keyed?.status).toBe(413);
    expect(preferencesRows()).toBe(0);
  });

  test('a declared 120 MB body is refused at the header and the connection closed', async () => {
    for (const key of ['', `Authorization: Bearer ${API_KEY}\r\n`]) {
      const outcome = await streamUpload(
        server.port,
        head(`${key}Content-Length: ${UPLOAD}\r\n`),
        UPLOAD,
        false,
      );
      // Over the listener's own limit Bun answers 413 itself and closes; the client, still
      // writing, may see the reset before it reads that answer.
      if (outcome.answer !== undefined) expect(outcome.answer.status).toBe(413);
      expect(outcome.sent).toBeLessThan(UPLOAD / 4);
    }
    expect(preferencesRows()).toBe(0);
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  });

  test('with the key, a body over server.max_payload_bytes is 413 with the envelope', async () => {
    const declared = await rawRequest(
      server.port,
      head(`Authorization: Bearer ${API_KEY}\r\nContent-Length: 70000\r\n`),
    );
    expect(declared.status).toBe(413);
    const envelope = jsonOf(declared) as { error: { code: string; message: string } };
    expect(envelope.error.code).toBe('too_large');
    expect(envelope.error.message).toContain('65536');
    const streamed = await streamUpload(
      server.port,
      head(`Authorization: Bearer ${API_KEY}\r\nTransfer-Encoding: chunked\r\n`),
      UPLOAD,
      true,
    );
    expectEnvelope(streamed, 413, 'too_large');
    expect(preferencesRows()).toBe(0);
    // A body within the limit is taken.
    const fits = await server.api('PUT', '/api/v1/users/u1/preferences', {
      pad: 'x'.repeat(60_000),
    });
    expect(fits.status).toBe(400); // over the 16 KiB object limit, refused by the route itself
    const small = await server.api('PUT', '/api/v1/users/u1/preferences', { theme: 'dark' });
    expect(small.status).toBe(200);
    expect(preferencesRows()).toBe(1);
  });
});
