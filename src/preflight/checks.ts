/**
 * @module Preflight checks that need only config values and the operating system
 * (docs/design.md#preflight): config valid, data dir writable, port free, disk space above the
 * floor. The auth key check is in `auth-key.ts`. Inputs are plain values, not the whole Config, so
 * each check is easy to test and to reuse. File system work is asynchronous so a hung disk trips
 * the runner's time limit instead of freezing the process.
 */
import { constants } from 'node:fs';
import { mkdir, open, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type Check, type CheckOutcome, fail, pass, warn } from './check.ts';

/** Names of the checks in this file, as they appear in reports and JSON. */
const CHECK_NAMES = {
  config: 'config',
  dataDir: 'data-dir',
  port: 'port',
  diskSpace: 'disk-space',
} as const;

/**
 * One config problem as the loader reports it. Structurally the config layer's `ConfigIssue`
 * (its `message` names the key), so its issues can be passed as they are; a plain string is
 * accepted too.
 */
type ConfigIssueInput =
  | string
  | { key: string; message: string; source?: string; fix?: string; severity?: 'error' | 'warn' };

/** Input of {@link configCheck}. */
interface ConfigCheckOptions {
  /** Every issue the loader found: unknown keys, wrong types, out-of-range values. */
  issues: readonly ConfigIssueInput[];
  /** Where the config came from (a file path), for the detail and fix lines. */
  source?: string;
}

/**
 * Reports the config loader's verdict as one row listing **every** issue, not just the first
 * (docs/design.md#conventions). It fails if any issue is an error, and warns if all are warnings.
 */
export function configCheck(input: ConfigCheckOptions): Check {
  return {
    name: CHECK_NAMES.config,
    run: async () => {
      const where = input.source ?? 'built-in defaults, environment and flags';
      if (input.issues.length === 0) return pass(`valid (${where})`);
      const items = input.issues.map(formatConfigIssue);
      const errors = input.issues.filter((i) => typeof i === 'string' || i.severity !== 'warn');
      const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
      const fix = `correct each key listed in ${input.source ?? 'the environment or flags'}, then run lifeline check again`;
      if (errors.length === 0)
        return warn(`${count(items.length, 'warning')} in ${where}`, fix, items);
      return fail(`${count(items.length, 'problem')} in ${where}`, fix, items);
    },
  };
}

/** One line per issue: `source: message (fix)`, as the config layer renders it. */
function formatConfigIssue(issue: ConfigIssueInput): string {
  if (typeof issue === 'string') return issue;
  const source = issue.source === undefined ? '' : `${issue.source}: `;
  const fix = issue.fix === undefined ? '' : ` (${issue.fix})`;
  return `${source}${issue.message}${fix}`;
}

/** Input of {@link dataDirCheck}. */
interface DataDirCheckOptions {
  /** `server.data_dir`; created (mode 0700) when missing. */
  dataDir: string;
}

/**
 * Confirms the data dir exists or can be created, and is really writable: it writes, fsyncs
 * and removes a probe file. Opening a directory proves nothing (docs/faults.md#p6, #p7).
 */
export function dataDirCheck(input: DataDirCheckOptions): Check {
  return {
    name: CHECK_NAMES.dataDir,
    run: async () => {
      const dir = resolve(input.dataDir);
      const ensured = await ensureDirectory(dir);
      if ('status' in ensured) return ensured;
      const probe = await writeProbe(dir);
      if (probe !== undefined) return probe;
      if ((ensured.mode & 0o077) !== 0) return wideDirectory(dir, ensured.mode);
      return pass(`${dir} is writable${ensured.created ? ' (created)' : ''}`);
    },
  };
}

/**
 * An existing data dir open to group or others: lifeline keeps its database files 0600 but does
 * not change a directory it did not create (docs/decisions.md "Data directory and database file
 * modes"); a group-writable one lets others replace those files.
 */
function wideDirectory(dir: string, mode: number): CheckOutcome {
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  const writable = (mode & 0o022) !== 0;
  return warn(
    `${dir} is writable, but its mode is 0${octal}: other users can ${writable ? 'replace' : 'list'} the database files (which hold the development key when none is configured)`,
    `chmod 700 ${dir}`,
  );
}

async function ensureDirectory(
  dir: string,
): Promise<CheckOutcome | { created: boolean; mode: number }> {
  const existing = await stat(dir).catch((error: NodeJS.ErrnoException) => error);
  if (!(existing instanceof Error)) {
    if (existing.isDirectory()) return { created: false, mode: existing.mode };
    return fail(
      `${dir} exists but is not a directory`,
      `move that file away, or set server.data_dir (--data-dir) to a directory`,
    );
  }
  if (existing.code === 'ENOTDIR') return fileInTheWay(dir);
  if (existing.code !== 'ENOENT') return fsProblem(existing, dir, 'cannot inspect');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return { created: true, mode: 0o700 };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === 'ENOTDIR' || err.code === 'EEXIST') return fileInTheWay(dir);
    return fsProblem(err, dir, 'cannot create');
  }
}

/** A regular file sits where a directory on the data dir's path should be. */
async function fileInTheWay(dir: string): Promise<CheckOutcome> {
  const blocker = (await findFileAncestor(dir)) ?? dirname(dir);
  return fail(
    `cannot create ${dir}: ${blocker} is a regular file, not a directory`,
    `set server.data_dir (--data-dir) to a path under a directory, or move ${blocker} away`,
  );
}

/** The nearest ancestor of `path` that exists and is not a directory, if any. */
async function findFileAncestor(path: string): Promise<string | undefined> {
  for (let current = dirname(path); current !== dirname(current); current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info !== undefined) return info.isDirectory() ? undefined : current;
  }
  return undefined;
}

async function writeProbe(dir: string): Promise<CheckOutcome | undefined> {
  const path = join(dir, `.lifeline-preflight-${process.pid}-${crypto.randomUUID()}`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const flags = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY;
    handle = await open(path, flags, 0o600);
    await handle.write('lifeline preflight probe\n');
    await handle.sync();
    return undefined;
  } catch (error) {
    return fsProblem(error as NodeJS.ErrnoException, dir, 'cannot write a file in');
  } finally {
    await handle?.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
  }
}

/**
 * Turns a file-system error into a failure whose fix names the cause (docs/faults.md#p5 (P5–P7)).
 */
async function fsProblem(
  error: NodeJS.ErrnoException,
  dir: string,
  action: string,
): Promise<CheckOutcome> {
  const detail = `${action} ${dir}: ${error.code ?? error.message}`;
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return fail(detail, await permissionFix(dir));
    case 'EROFS':
      return fail(
        `${detail} (read-only filesystem)`,
        'put server.data_dir on a writable filesystem, or remount it read-write',
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return fail(`${detail} (disk full)`, `free space on the filesystem holding ${dir}`);
    default:
      return fail(
        detail,
        `check the filesystem holding ${dir} (dmesg, mount options, permissions)`,
      );
  }
}

async function permissionFix(dir: string): Promise<string> {
  const uid = process.getuid?.() ?? -1;
  const info = await stat(dir).catch(() => undefined);
  const owner = info === undefined ? '' : ` (owned by uid ${info.uid})`;
  return `lifeline runs as uid ${uid}: chown ${uid} ${dir}${owner}, or set server.data_dir to a directory it owns`;
}

/** Input of {@link portCheck}. */
interface PortCheckOptions {
  /** `server.host`. */
  host: string;
  /** `server.port`; 0 means any free port and always passes. */
  port: number;
}

/**
 * Confirms host:port can be bound by binding it exclusively and releasing it at once, so a second
 * instance fails here instead of sharing the port (docs/design.md#listener, docs/faults.md#p9).
 */
export function portCheck(input: PortCheckOptions): Check {
  return {
    name: CHECK_NAMES.port,
    run: async () => {
      const address = formatAddress(input.host, input.port);
      if (input.port === 0) return pass(`${address}: the OS picks a free port`);
      try {
        const listener = Bun.listen({
          hostname: input.host,
          port: input.port,
          exclusive: true,
          socket: { data: () => undefined },
        });
        listener.stop(true);
        return pass(`${address} is free`);
      } catch (error) {
        return bindProblem(error as NodeJS.ErrnoException, address, input.port);
      }
    },
  };
}

function bindProblem(error: NodeJS.ErrnoException, address: string, port: number): CheckOutcome {
  switch (error.code) {
    case 'EADDRINUSE':
      return fail(
        `${address} is already in use`,
        `stop the process listening there (ss -ltnp 'sport = :${port}' shows it) or set server.port (--port)`,
      );
    case 'EACCES':
      return fail(
        `not allowed to bind ${address}`,
        'use a port above 1023, or grant CAP_NET_BIND_SERVICE (AmbientCapabilities= in the unit)',
      );
    case 'EADDRNOTAVAIL':
      return fail(
        `${address}: the host is not an address of this machine`,
        'set server.host (--host) to a local address, e.g. 127.0.0.1 or 0.0.0.0',
      );
    default:
      return fail(
        `cannot bind ${address}: ${error.code ?? error.message}`,
        'check server.host and server.port (--host, --port); the host must resolve to a local address',
      );
  }
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Input of {@link diskSpaceCheck}. */
interface DiskSpaceCheckOptions {
  /** The data dir; if missing, its nearest existing ancestor is measured. */
  dataDir: string;
  /** The floor: below it the check fails; below twice it, it warns. */
  minFreeDiskMb: number;
}

const BYTES_PER_MB = 1024 * 1024;

/**
 * Confirms free space on the data dir's filesystem, as available to an unprivileged user, is
 * above the floor, so the daemon does not start only to refuse every write (docs/faults.md#p5).
 */
export function diskSpaceCheck(input: DiskSpaceCheckOptions): Check {
  return {
    name: CHECK_NAMES.diskSpace,
    run: async () => {
      const path = await nearestExisting(resolve(input.dataDir));
      const info = await statfs(path);
      const freeMb = Math.floor((info.bavail * info.bsize) / BYTES_PER_MB);
      const floor = `the floor is ${input.minFreeDiskMb} MB`;
      const fix = `free space on the filesystem holding ${path}, or move server.data_dir to a larger one`;
      if (info.files > 0 && info.ffree === 0) return fail(`no free inodes at ${path}`, fix);
      if (freeMb < input.minFreeDiskMb) return fail(`${freeMb} MB free at ${path}; ${floor}`, fix);
      if (freeMb < input.minFreeDiskMb * 2) {
        return warn(`${freeMb} MB free at ${path}, close to ${floor}`, fix);
      }
      return pass(`${freeMb} MB free at ${path}`);
    },
  };
}

async function nearestExisting(path: string): Promise<string> {
  let current = path;
  while (current !== dirname(current)) {
    const found = await stat(current).then(
      () => true,
      () => false,
    );
    if (found) return current;
    current = dirname(current);
  }
  return current;
}
