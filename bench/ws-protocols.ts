/**
 * The three servers bench/ws.ts compares, seen from the client: how to open a socket, which frame
 * counts as the first one, and how one round trip (lifeline `message` → `ack`, bare echo,
 * Socket.IO emit with ack) is sent and recognised. Socket.IO is spoken raw (Engine.IO v4 packets
 * over one WebSocket) so all three pay the same client cost and only the servers differ.
 */

/** Which server a client talks to. */
export type ServerKind = 'lifeline' | 'bare' | 'socketio';

/** What a client remembers between connections (resume state). */
export interface Resume {
  /** lifeline: epoch + highest seq seen; Socket.IO: private session id + offset. */
  epoch?: string;
  seq?: number;
  pid?: string;
  offset?: string;
}

/** How one incoming text frame is classified. */
export type Incoming =
  | { kind: 'first'; recovered: boolean }
  | { kind: 'reply'; id: string; ok: boolean }
  | { kind: 'send'; text: string }
  | { kind: 'other' };

/**
 * One client's identity: the user it belongs to (a few sockets share one, like a user's tabs) and,
 * for lifeline, its own token. The baselines take the user from the query string and fan each
 * request out to the user's other sockets as lifeline does.
 */
export interface Identity {
  token: string;
  userId: string;
}

/** URL and WebSocket options for a new connection. */
export function openArgs(
  kind: ServerKind,
  port: number,
  identity: Identity | undefined,
  resume: Resume,
): { url: string; options: { headers?: Record<string, string>; protocols?: string[] } } {
  const user = encodeURIComponent(identity?.userId ?? 'u');
  if (kind === 'bare') return { url: `ws://127.0.0.1:${port}/?user=${user}`, options: {} };
  if (kind === 'socketio') {
    return {
      url: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&user=${user}`,
      options: {},
    };
  }
  const query = new URLSearchParams({ thread: `t-${identity?.userId}` });
  if (resume.epoch !== undefined && resume.seq !== undefined) {
    query.set('since', String(resume.seq));
    query.set('epoch', resume.epoch);
  }
  return {
    url: `ws://127.0.0.1:${port}/ws?${query}`,
    options: {
      headers: { authorization: `Bearer ${identity?.token}` },
      protocols: ['lifeline.v1'],
    },
  };
}

/** Classifies a frame, updating `resume`; `send` asks the caller to answer with that text. */
export function classify(kind: ServerKind, text: string, resume: Resume): Incoming {
  if (kind === 'bare') {
    if (text.startsWith('{"type":"rehydrate"')) return { kind: 'first', recovered: false };
    const id = (JSON.parse(text) as { id?: string }).id;
    return id === undefined ? { kind: 'other' } : { kind: 'reply', id, ok: true };
  }
  if (kind === 'socketio') return classifySocketIo(text, resume);
  const frame = JSON.parse(text) as {
    type: string;
    id?: string;
    seq?: number;
    epoch?: string;
    recovered?: boolean;
  };
  if (typeof frame.seq === 'number') resume.seq = Math.max(resume.seq ?? 0, frame.seq);
  if (frame.type === 'rehydrate') {
    resume.epoch = frame.epoch;
    return { kind: 'first', recovered: frame.recovered === true };
  }
  if (frame.type === 'ack' && frame.id !== undefined)
    return { kind: 'reply', id: frame.id, ok: true };
  if (frame.type === 'error') return { kind: 'reply', id: frame.id ?? '', ok: false };
  return { kind: 'other' };
}

function classifySocketIo(text: string, resume: Resume): Incoming {
  if (text === '2') return { kind: 'send', text: '3' };
  if (text.startsWith('0{')) {
    const auth =
      resume.pid && resume.offset ? { pid: resume.pid, offset: resume.offset } : undefined;
    return { kind: 'send', text: auth ? `40${JSON.stringify(auth)}` : '40' };
  }
  if (text.startsWith('40')) {
    const connect = JSON.parse(text.slice(2)) as { pid?: string };
    if (connect.pid) resume.pid = connect.pid;
    return { kind: 'other' };
  }
  if (text.startsWith('42[')) {
    const event = JSON.parse(text.slice(2)) as unknown[];
    // With connection-state recovery a broadcast carries its offset as the last argument.
    const offset = event.at(-1);
    if (typeof offset === 'string') resume.offset = offset;
    const body = event[1] as { recovered?: boolean } | undefined;
    return { kind: 'first', recovered: body?.recovered === true };
  }
  const ack = /^43(\d+)\[/.exec(text);
  if (ack?.[1] !== undefined) return { kind: 'reply', id: ack[1], ok: true };
  return { kind: 'other' };
}

/**
 * The text of round trip number `n` (an integer id unique on the socket) for thread `threadId`.
 * The bare server echoes the frame to the sender and publishes it to the user's other sockets, so
 * its id is a UUID: another socket's copy must not settle this socket's request `n`.
 */
export function requestText(kind: ServerKind, n: number, threadId: string): string {
  if (kind === 'socketio') return `42${n}["echo",{"n":${n}}]`;
  if (kind === 'bare') return `{"type":"ping","id":"${crypto.randomUUID()}","n":${n}}`;
  return JSON.stringify({
    type: 'message',
    id: crypto.randomUUID(),
    thread_id: threadId,
    role: 'user',
    content: `bench message ${n}`,
  });
}

/** The id the reply to a request will carry (lifeline and the bare server echo the UUID). */
export function requestId(kind: ServerKind, n: number, text: string): string {
  if (kind === 'socketio') return String(n);
  return (JSON.parse(text) as { id: string }).id;
}
