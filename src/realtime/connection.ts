/**
 * @module One connection's life (docs/design.md#websocket): the checks before the upgrade (Origin →
 * 403, draining → 503, per-IP limit → 429, token verified once), the open (4001/4003 with no frame
 * first; hub registration before the snapshot; `rehydrate` first), each inbound frame (token
 * bucket, then the serial queue), and the close.
 */
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { LifelineError } from '../lib/errors.ts';
import { type ExtractedToken, extractToken, type VerifyResult } from './auth.ts';
import { type HandlerOptions, handleFrame, newConnectionId, reply } from './handlers.ts';
import type { UpgradeLimiter } from './limits.ts';
import type { OriginPolicy } from './origin.ts';
import { CLOSE, errorFrame, isAcceptableId, SUBPROTOCOL } from './protocol.ts';
import { isoTime } from './push.ts';
import { type ResumeRequest, readReplay, readState, resumeOf, threadIdsOf } from './rehydrate.ts';
import { withReplies } from './replies.ts';
import { Session } from './session.ts';
import type { SocketLike } from './socket.ts';
import { DEFAULT_FRAME_LIMITS, parseClientFrame } from './validate-frame.ts';

/** Thrown from the upgrade hook; the app's error handler answers it with `status` (no 101). */
class UpgradeRefused extends LifelineError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** What the connection code needs besides the handlers' context. */
export interface ConnectionOptions extends HandlerOptions {
  clock: Clock;
  /** The effective config, read live (runtime tunables). */
  config(): Config;
  originPolicy(boundPort: number): OriginPolicy;
  upgradeLimiter(): UpgradeLimiter;
  draining(): boolean;
  /** A valid token's claims may still be refused (→ 4003); the default allows every user. */
  authorize(claims: Readonly<Record<string, unknown>>): boolean;
  epoch(): Promise<string>;
  /** Every open session, for the expiry sweep, drain and memory status pushes. */
  sessions: Set<Session>;
}

/** What the upgrade hook learned, kept until `open`. */
interface UpgradeInfo {
  auth: VerifyResult;
  threadIds: string[];
  resume: ResumeRequest | undefined;
}

const pendingUpgrades = new WeakMap<Request, UpgradeInfo>();

/** The parts of Elysia's context the upgrade hook reads and writes. */
export interface UpgradeContext {
  request: Request;
  server: { port?: number; requestIP(request: Request): { address: string } | null } | null;
  set: { headers: Record<string, string | number | string[] | undefined> };
}

/**
 * Runs once per upgrade (Elysia's `upgrade` hook; `beforeHandle` runs twice, so nothing with a
 * side effect may live there). Refusals throw {@link UpgradeRefused}.
 */
export async function checkUpgrade(
  deps: ConnectionOptions,
  context: UpgradeContext,
): Promise<void> {
  const { request, server, set } = context;
  const origin = request.headers.get('origin');
  if (!deps.originPolicy(server?.port ?? deps.config().server.port)(origin)) {
    deps.metrics.rejected.inc({ reason: 'origin' });
    throw new UpgradeRefused(403, 'forbidden_origin', 'this Origin may not open /ws');
  }
  if (deps.draining()) {
    throw new UpgradeRefused(503, 'unavailable', 'the server is restarting; reconnect shortly');
  }
  const address = server?.requestIP(request)?.address ?? 'unknown';
  if (!deps.upgradeLimiter().allow(address)) {
    deps.metrics.rejected.inc({ reason: 'upgrade_rate' });
    throw new UpgradeRefused(429, 'rate_limited', 'too many connections from this address');
  }
  const url = new URL(request.url);
  const extracted: ExtractedToken = extractToken({
    authorization: request.headers.get('authorization'),
    queryToken: url.searchParams.get('token'),
    subprotocolHeader: request.headers.get('sec-websocket-protocol'),
  });
  // Always answer our protocol: left unanswered, Bun echoes the first entry offered, which may be
  // `bearer.<token>` (docs/design.md#token-rules).
  if (request.headers.has('sec-websocket-protocol')) {
    set.headers['sec-websocket-protocol'] = SUBPROTOCOL;
  }
  pendingUpgrades.set(request, {
    auth: await deps.verifier.verify(extracted.token),
    threadIds: threadIdsOf(url.searchParams.getAll('thread'), isAcceptableId),
    resume: resumeOf(url.searchParams.get('since'), url.searchParams.get('epoch')),
  });
}

/** The raw Bun socket as the open handler receives it; `data` is replaced once it is open. */
export interface RawSocket {
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
  data: { request?: Request; message?: unknown; close?: unknown };
}

/** The hub's view of a raw socket: one object with prototype methods, not three closures. */
class SessionSocket implements SocketLike<Session> {
  constructor(
    private readonly raw: RawSocket,
    readonly data: Session,
  ) {}
  send(text: string): number {
    return this.raw.send(text);
  }
  close(code?: number, reason?: string): void {
    this.raw.close(code, reason);
  }
  getBufferedAmount(): number {
    return this.raw.getBufferedAmount();
  }
}

/**
 * Opens a socket: refuses a bad token with 4001 (or a refused user with 4003) before any frame,
 * registers it, then sends `rehydrate` (and the replay) as the first task of its queue.
 */
export function openConnection(deps: ConnectionOptions, raw: RawSocket): Session | undefined {
  const request = raw.data.request;
  const info = request === undefined ? undefined : pendingUpgrades.get(request);
  if (request !== undefined) pendingUpgrades.delete(request);
  if (info === undefined) {
    raw.close(CLOSE.internal, 'upgrade state lost');
    return undefined;
  }
  if (!info.auth.ok) {
    deps.metrics.rejected.inc({ reason: info.auth.reason });
    raw.close(CLOSE.refreshToken, info.auth.reason);
    return undefined;
  }
  if (!deps.authorize(info.auth.claims)) {
    deps.metrics.rejected.inc({ reason: 'forbidden' });
    raw.close(CLOSE.forbidden, 'forbidden');
    return undefined;
  }
  const limits = deps.config().limits;
  const session = new Session(
    info.auth.userId,
    newConnectionId(),
    info.auth.expMs,
    { messagesPerS: limits.messages_per_s, burst: limits.burst },
    deps.clock,
    deps.logger,
  );
  session.socket = new SessionSocket(raw, session);
  if (!deps.hub.register(session.userId, session.socket)) {
    deps.metrics.rejected.inc({ reason: 'sockets_per_user' });
    session.closed = true;
    return undefined;
  }
  session.registered = true;
  deps.sessions.add(session);
  deps.metrics.connections.inc();
  deps.metrics.connectionsTotal.inc();
  const startedMs = performance.now();
  session.enqueue(() => sendRehydrate(deps, session, info, startedMs));
  return session;
}

async function sendRehydrate(
  deps: ConnectionOptions,
  session: Session,
  info: UpgradeInfo,
  startedMs: number,
): Promise<void> {
  try {
    const state = await readState(
      deps.store,
      deps.epoch,
      {
        userId: session.userId,
        threadIds: info.threadIds,
        recentMessages: deps.config().rehydration.recent_messages,
        maxFrameBytes: deps.frameBudget(),
      },
      deps.memory.status(),
    );
    const replay =
      info.resume === undefined
        ? undefined
        : await readReplay(deps.store, session.userId, info.resume, state);
    const frame = {
      type: 'rehydrate' as const,
      ...state,
      recovered: replay !== undefined,
      session: {
        user_id: session.userId,
        connection_id: session.connectionId,
        token_expires_at: isoTime(session.tokenExpMs),
      },
    };
    if (deps.hub.completeSnapshot(session.socket, withReplies(frame, deps.turns), replay ?? [])) {
      deps.metrics.messagesOut.inc({ type: 'rehydrate' });
      deps.metrics.rehydrateSeconds.observe((performance.now() - startedMs) / 1000);
    }
  } catch (error) {
    deps.logger.error('rehydrate failed', { error, connection_id: session.connectionId });
    deps.close(session, CLOSE.internal, 'rehydrate failed');
  }
}

/**
 * One inbound frame: the token bucket first (refused frames answer `rate_limited` in order; once
 * `limits.burst` frames were refused in a row, or within the last ten seconds, the socket is closed
 * with 4008 — docs/protocol.md §8, docs/decisions.md), then validation and the handler in the
 * socket's queue.
 */
export function receiveFrame(deps: ConnectionOptions, session: Session, raw: unknown): void {
  if (session.closed || session.closing) return;
  const parsed = parseClientFrame(raw, {
    ...DEFAULT_FRAME_LIMITS,
    maxFrameBytes: deps.config().server.max_payload_bytes,
  });
  deps.metrics.messagesIn.inc({ type: parsed.ok ? parsed.frame.type : 'invalid' });
  if (!session.admit()) {
    const burst = deps.config().limits.burst;
    if (session.strikes >= burst || session.recentRefusals >= burst) {
      // Close behind the frames already admitted, so each of them is answered first and every
      // committed message is acked (rows = acks, docs/faults.md#w12); later frames are ignored.
      session.closing = true;
      deps.metrics.rejected.inc({ reason: 'rate_limited' });
      session.enqueue(() => deps.close(session, CLOSE.rateLimited, 'rate limit'));
      return;
    }
    const id = parsed.ok ? parsed.frame.id : parsed.id;
    session.enqueue(() =>
      reply(deps, session, errorFrame('rate_limited', 'too many frames; slow down', id)),
    );
    return;
  }
  if (!parsed.ok) {
    session.enqueue(() => reply(deps, session, errorFrame(parsed.code, parsed.message, parsed.id)));
    return;
  }
  const frame = parsed.frame;
  session.enqueue(() => handleFrame(deps, session, frame));
}

/** Stops all delivery to a session; safe to call more than once. */
function forget(deps: ConnectionOptions, session: Session): void {
  session.closed = true;
  deps.sessions.delete(session);
  deps.hub.unregister(session.socket);
  if (session.registered) {
    session.registered = false;
    deps.metrics.connections.dec();
  }
}

/** Bun's close handler: counts the close code and forgets the session. */
export function closeConnection(
  deps: ConnectionOptions,
  session: Session | undefined,
  code: number,
) {
  deps.metrics.closes.inc({ code: String(code) });
  if (session !== undefined) forget(deps, session);
}

/** Closes a socket from the server side with `code` and `reason`. */
export function closeSession(
  deps: ConnectionOptions,
  session: Session,
  code: number,
  reason: string,
) {
  forget(deps, session);
  try {
    session.socket.close(code, reason);
  } catch {
    // Already closed: nothing more to do.
  }
}

/**
 * Sends `auth.expiring` once `auth.expiring_notice_s` before `exp`, and closes with 4001
 * `token_expired` at `exp + auth.leeway_s` (the tolerance used at connect; decision).
 */
export function sweepExpiry(deps: ConnectionOptions, nowWallMs: number): void {
  const { leeway_s: leewayS, expiring_notice_s: noticeS } = deps.config().auth;
  for (const session of [...deps.sessions]) {
    if (nowWallMs >= session.tokenExpMs + leewayS * 1000) {
      deps.close(session, CLOSE.refreshToken, 'token_expired');
    } else if (!session.expiryNoticeSent && nowWallMs >= session.tokenExpMs - noticeS * 1000) {
      session.expiryNoticeSent = true;
      const inS = Math.max(0, Math.ceil((session.tokenExpMs - nowWallMs) / 1000));
      reply(deps, session, { type: 'auth.expiring', in_s: inS });
    }
  }
}
