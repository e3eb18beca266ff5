/**
 * @module sd_notify for `Type=notify` units (docs/runtime.md#systemd). Bun has no AF_UNIX
 * datagram socket, so this calls libc's socket() and sendto() through bun:ffi. It never throws:
 * a daemon must not die because nobody listens for its notifications.
 */
import type { Logger } from '../lib/log.ts';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;

/** Sends notifications to systemd; a no-op when NOTIFY_SOCKET is unset. */
export interface Notifier {
  notify(state: string): boolean;
  /** Microseconds between watchdog pings systemd expects, or undefined. */
  readonly watchdogUsec: number | undefined;
}

/** Builds a notifier from the environment systemd sets. */
export function createNotifier(env: Record<string, string | undefined>, logger: Logger): Notifier {
  const path = env.NOTIFY_SOCKET;
  const watchdog = Number(env.WATCHDOG_USEC);
  const watchdogUsec = Number.isFinite(watchdog) && watchdog > 0 ? watchdog : undefined;
  if (!path) return { notify: () => false, watchdogUsec };
  let send: ((state: string) => boolean) | undefined;
  return {
    watchdogUsec,
    notify(state) {
      try {
        send ??= openSender(path);
        const ok = send(state);
        if (!ok) logger.warn('sd_notify failed', { state: state.split('=')[0] });
        return ok;
      } catch (error) {
        logger.warn('sd_notify unavailable', { error });
        send = () => false;
        return false;
      }
    },
  };
}

function openSender(socketPath: string): (state: string) => boolean {
  const { dlopen, FFIType, ptr } = require('bun:ffi') as typeof import('bun:ffi');
  const libc = dlopen('libc.so.6', {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i64,
    },
  });
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error('socket(AF_UNIX, SOCK_DGRAM) failed');
  const address = sockaddrUn(socketPath);
  return (state) => {
    const message = Buffer.from(state);
    const sent = libc.symbols.sendto(
      fd,
      ptr(message),
      message.length,
      0,
      ptr(address),
      address.length,
    );
    return Number(sent) === message.length;
  };
}

/** struct sockaddr_un; a leading `@` names an abstract socket (first byte NUL). */
function sockaddrUn(path: string): Buffer {
  const name = Buffer.from(path.startsWith('@') ? `\0${path.slice(1)}` : path);
  const address = Buffer.alloc(2 + name.length + (path.startsWith('@') ? 0 : 1));
  address.writeUInt16LE(AF_UNIX, 0);
  name.copy(address, 2);
  return address;
}
