/**
 * @module Fault descriptions for the fake Zep server and the rule that picks the fault for one
 * request, in the style of Envoy's fault filter (docs/faults.md#memory-faults): a kind, plus a
 * scope that limits it to a percentage of requests, to the n-th matching request, to a path or to
 * some methods.
 */
import type { Clock } from '../../src/lib/clock.ts';

/** Limits a fault to some requests. All given conditions must hold. */
export interface FaultScope {
  /** Applies to this share of matching requests, 0–100 (default 100). */
  readonly percent?: number;
  /** Applies only to the n-th matching request since the fault was set (1-based). */
  readonly nth?: number;
  /** Applies only when the request path contains this text. */
  readonly pathIncludes?: string;
  /** Applies only to these methods (upper case). */
  readonly methods?: readonly string[];
  /**
   * Whether the fake first applies the request to its data (stores the messages) and then
   * misbehaves: the "server did the work, the answer was lost" case that makes writes indeterminate
   * (docs/faults.md#m3, #m8). Defaults: true for `delay`, `reset_mid_body`, `truncated`,
   * `invalid_json`, `wrong_shape`; false for `hang` and `status` (Envoy's abort).
   */
  readonly commit?: boolean;
}

/** One fault the fake can inject; see {@link FaultScope} for the shared scope fields. */
export type Fault = FaultScope &
  (
    | { readonly kind: 'none' }
    /** Accept the request and never answer; the record ends when the client closes. */
    | { readonly kind: 'hang' }
    /** Wait, then answer normally: `ms`, or a uniform pick in [minMs, maxMs]. */
    | {
        readonly kind: 'delay';
        readonly ms?: number;
        readonly minMs?: number;
        readonly maxMs?: number;
      }
    /** Answer with this status instead; `body` defaults to the mode's error shape. */
    | {
        readonly kind: 'status';
        readonly status: number;
        readonly body?: string | object;
        readonly headers?: Readonly<Record<string, string>>;
      }
    /** Stop listening (real ECONNREFUSED) until healed; scope fields are ignored. */
    | { readonly kind: 'refuse' }
    /** Send the status line, headers and part of the body, then a TCP RST. */
    | { readonly kind: 'reset_mid_body' }
    /** Promise a longer Content-Length than sent, then FIN. */
    | { readonly kind: 'truncated' }
    /** Answer the normal status with a body that is not JSON (default `{"a":`). */
    | { readonly kind: 'invalid_json'; readonly body?: string }
    /** Answer the normal status with this JSON value (or raw string) as the body. */
    | { readonly kind: 'wrong_shape'; readonly body: unknown }
    /**
     * Alternate `upMs` healthy and `downMs` with `downFault`, starting up. Phases are read from the
     * fake's clock at each request; a `refuse` down fault runs on real timers instead, because a
     * closed listener sees no requests to read the clock at.
     */
    | {
        readonly kind: 'flap';
        readonly upMs: number;
        readonly downMs: number;
        readonly downFault: Fault;
      }
  );

/** The faults that act on one request (everything except `flap` and `refuse`). */
export type RequestFault = Exclude<Fault, { kind: 'flap' } | { kind: 'refuse' } | { kind: 'none' }>;

/** A fault as installed: when it was set and how many requests matched its scope so far. */
export interface ActiveFault {
  readonly fault: Fault;
  readonly setAtMs: number;
  matched: number;
}

/** True while a flap that started at `setAtMs` is in its down phase at `nowMs`. */
export function isFlapDown(flap: { upMs: number; downMs: number }, setAtMs: number, nowMs: number) {
  const period = flap.upMs + flap.downMs;
  if (period <= 0) return false;
  return (nowMs - setAtMs) % period >= flap.upMs;
}

/** Whether a fault's scope covers this request; counts the request toward `nth` when it matches. */
function scopeCovers(
  active: ActiveFault,
  scope: FaultScope,
  method: string,
  path: string,
  random: () => number,
) {
  if (scope.methods && !scope.methods.includes(method)) return false;
  if (scope.pathIncludes !== undefined && !path.includes(scope.pathIncludes)) return false;
  active.matched += 1;
  if (scope.nth !== undefined && active.matched !== scope.nth) return false;
  if (scope.percent !== undefined && random() * 100 >= scope.percent) return false;
  return true;
}

/**
 * Picks the fault for one request, or null to answer normally. A flap resolves to its down fault
 * during the down phase; only the down fault's scope applies (the flap's own is ignored).
 */
export function pickFault(
  active: ActiveFault | null,
  request: { method: string; path: string },
  clock: Clock,
  random: () => number,
): RequestFault | null {
  if (!active) return null;
  let fault = active.fault;
  if (fault.kind === 'flap') {
    if (!isFlapDown(fault, active.setAtMs, clock.monoMs())) return null;
    fault = fault.downFault;
  }
  if (fault.kind === 'none' || fault.kind === 'refuse' || fault.kind === 'flap') return null;
  return scopeCovers(active, fault, request.method, request.path, random) ? fault : null;
}

/** Whether the fake applies the request to its data before this fault acts. */
export function faultCommits(fault: RequestFault | null): boolean {
  if (!fault) return true;
  if (fault.commit !== undefined) return fault.commit;
  return fault.kind !== 'hang' && fault.kind !== 'status';
}

/** The delay of a `delay` fault in ms. */
export function delayMsOf(fault: Extract<Fault, { kind: 'delay' }>, random: () => number): number {
  if (fault.ms !== undefined) return fault.ms;
  const min = fault.minMs ?? 0;
  const max = fault.maxMs ?? min;
  return min + random() * (max - min);
}
