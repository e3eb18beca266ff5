/**
 * @module HTTP/1.1 over a bare node:net socket, for what `fetch` cannot send: dot segments and
 * backslashes in a path (fetch resolves them), no Host, invalid bytes, and uploads that watch
 * how much was written when the answer came.
 */
import { connect, type Socket } from 'node:net';

/** A parsed answer. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** The answer's body as JSON (undefined when it is not JSON). */
export function jsonOf(answer: RawAnswer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}

function parse(raw: Buffer): RawAnswer | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = raw.subarray(end + 4);
  if (body.length < length) return undefined;
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body.subarray(0, length).toString('utf8'),
  };
}

/** Sends `request` as is on a new connection and resolves with the first whole answer. */
export function rawRequest(port: number, request: string | Uint8Array): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = parse(received);
      if (answer !== undefined) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before a whole answer: ${received}`)));
  });
}

/** What {@link streamUpload} saw. */
export interface UploadOutcome {
  /** Undefined when the connection was reset before a whole answer was read. */
  answer: RawAnswer | undefined;
  /** Body bytes written when the first byte of the answer arrived. */
  sentWhenAnswered: number;
  /** Body bytes written in all (the server closing stops the writing). */
  sent: number;
}

/**
 * Writes `head` (the request line and headers, ending in a blank line), then up to `total` body
 * bytes in 1 MiB pieces (chunked when `chunked`), as fast as the server takes them, and closes
 * once it has written them all and has the answer (or when the server closes).
 */
export function streamUpload(
  port: number,
  head: string,
  total: number,
  chunked: boolean,
): Promise<UploadOutcome> {
  const piece = Buffer.alloc(1024 * 1024, 0x20);
  const framed = chunked
    ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
    : piece;
  return new Promise((resolve) => {
    let sent = 0;
    let sentWhenAnswered = -1;
    let received = Buffer.alloc(0);
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      pump();
    });
    const pump = () => {
      while (sent < total && !socket.destroyed) {
        sent += piece.length;
        if (!socket.write(framed)) return void socket.once('drain', pump);
      }
      if (chunked && !socket.destroyed) socket.write('0\r\n\r\n');
      if (parse(received) !== undefined) socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      if (sentWhenAnswered < 0) sentWhenAnswered = sent;
      received = Buffer.concat([received, chunk]);
      // Answered after the whole body went out: a server that keeps the connection open is done.
      if (sent >= total && parse(received) !== undefined) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => resolve({ answer: parse(received), sentWhenAnswered, sent }));
  });
}

/**
 * Writes `head` and the first `firstBytes` of a chunked body, then sends nothing more and waits up
 * to `waitMs` for an answer. A server that reads the whole body before answering never answers
 * here (undefined); one that decides from the headers does, with the body still incomplete.
 */
export function stalledUpload(
  port: number,
  head: string,
  firstBytes: number,
  waitMs: number,
): Promise<RawAnswer | undefined> {
  const piece = Buffer.alloc(firstBytes, 0x20);
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (answer: RawAnswer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), waitMs);
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = parse(received);
      if (answer !== undefined) finish(answer);
    });
    socket.on('error', () => finish(parse(received)));
    socket.on('close', () => finish(parse(received)));
  });
}
