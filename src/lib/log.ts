/**
 * @module The logger: JSON lines for journald, or a readable form on a TTY. Fields whose name
 * looks secret are redacted before anything is written, so a token cannot reach a log line by
 * accident of naming (docs/design.md#configuration, #token-rules).
 */

/** Log levels in increasing order of severity. */
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
type LogLevel = (typeof LOG_LEVELS)[number];
/** Structured fields of one log line. */
type LogFields = Record<string, unknown>;

/** Where log lines go; the default writes to stdout. */
type LogSink = (line: string) => void;

/** The logging interface every layer receives. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** Changes the level live (runtime config). */
  setLevel(level: LogLevel): void;
}

/** Options for {@link createLogger}. */
interface LoggerOptions {
  level?: LogLevel;
  format?: 'json' | 'pretty';
  sink?: LogSink;
  now?: () => number;
}

const SECRET_NAME = /(secret|token|password|api_?key|authorization|cookie|credential|private)/i;
const MAX_FIELD_DEPTH = 6;

/** Replaces the value of every field whose name looks secret with `[redacted]`. */
function redactFields(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_FIELD_DEPTH) return '[deep]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_NAME.test(key) ? '[redacted]' : redactFields(inner, depth + 1);
  }
  return out;
}

const defaultSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** Creates a logger; `format` defaults to pretty on a TTY and JSON otherwise. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const state = { level: options.level ?? 'info' };
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const sink = options.sink ?? defaultSink;
  const now = options.now ?? Date.now;
  return makeLogger(state, format, sink, now, {});
}

function makeLogger(
  state: { level: LogLevel },
  format: 'json' | 'pretty',
  sink: LogSink,
  now: () => number,
  bound: LogFields,
): Logger {
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(state.level)) return;
    const safe = redactFields({ ...bound, ...fields }) as LogFields;
    const time = new Date(now()).toISOString();
    sink(
      format === 'json'
        ? JSON.stringify({ level, time, msg, ...safe })
        : pretty(level, time, msg, safe),
    );
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => makeLogger(state, format, sink, now, { ...bound, ...fields }),
    setLevel: (level) => {
      state.level = level;
    },
  };
}

function pretty(level: LogLevel, time: string, msg: string, fields: LogFields): string {
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}`;
}

/** A logger that writes nothing; for tests and for commands that print their own output. */
export const silentLogger: Logger = createLogger({ sink: () => {} });

/**
 * Writes a line to stdout or stderr for CLI output (tables, JSON). The one sanctioned place for
 * terminal output outside log lines.
 */
export function printOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes a line to stderr for CLI errors. */
export function printErr(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
