/**
 * @module Validation of one inbound WebSocket frame (docs/design.md#websocket, #content-rules,
 * #ids-and-limits; docs/faults.md#w1 (W1–W9)). The result is a value, never an exception: the
 * caller answers `error` and keeps the socket open. A valid frame is a freshly built object holding
 * only the fields its model names, so extra keys (including `__proto__`, `constructor`,
 * `prototype`) are dropped, never merged.
 */
import type { TObject } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler, type ValueError } from '@sinclair/typebox/compiler';
import { ID_PATTERN } from '../lib/ids.ts';
import {
  findBadString,
  hasLoneSurrogate,
  hasNul,
  isBlank,
  nestingDepth,
  utf8Bytes,
} from '../lib/text.ts';
import { CLIENT_FRAMES, type ClientFrame, type ErrorCode, isAcceptableId } from './protocol.ts';

/** Size and shape limits applied to client frames. */
interface FrameLimits {
  /** Whole frame in UTF-8 bytes; Bun closes 1009 first, this guards already-parsed values too. */
  maxFrameBytes: number;
  /** `message.content` in UTF-8 bytes. */
  maxContentBytes: number;
  /** `metadata`, `preferences`, `state` as JSON, in UTF-8 bytes. */
  maxObjectBytes: number;
  /** `memory.query` query text in UTF-8 bytes. */
  maxQueryBytes: number;
  /**
   * Levels of nested objects and arrays; the frame itself is level 1
   * (docs/design.md#ids-and-limits).
   */
  maxDepth: number;
}

/** The limits used when the caller has no reason to change them (decisions in docs). */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = {
  maxFrameBytes: 65_536,
  maxContentBytes: 32_768,
  maxObjectBytes: 16_384,
  maxQueryBytes: 4_096,
  maxDepth: 32,
};

/** Outcome of {@link parseClientFrame}. */
type ParseResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: ErrorCode; message: string; id?: string };

/** A frame type's model and its check, compiled on the first frame of that type. */
class Checker {
  #compiled: TypeCheck<TObject> | undefined;
  constructor(readonly schema: TObject) {}
  get check(): TypeCheck<TObject> {
    this.#compiled ??= TypeCompiler.Compile(this.schema);
    return this.#compiled;
  }
}

// Compiling every frame type at load cost ≈ 3 ms of each start (docs/benchmarks.md, Startup).
const CHECKERS = new Map(
  Object.entries(CLIENT_FRAMES).map(([type, schema]) => [type, new Checker(schema as TObject)]),
);

/**
 * Validates one inbound frame. `raw` is what the socket delivered: a string (parsed here), an
 * already-parsed value (Elysia parses text frames that look like JSON), or binary data (refused).
 * Never throws.
 */
export function parseClientFrame(
  raw: unknown,
  limits: FrameLimits = DEFAULT_FRAME_LIMITS,
): ParseResult {
  try {
    return parseUnsafe(raw, limits);
  } catch {
    // Only a bug can get here (every step above is total); answer like any other bad frame.
    return fail('bad_request', 'the frame could not be validated');
  }
}

function parseUnsafe(raw: unknown, limits: FrameLimits): ParseResult {
  if (isBinary(raw)) return fail('bad_request', 'binary frames are not supported; send JSON text');
  let value = raw;
  if (typeof raw === 'string') {
    if (utf8Bytes(raw) > limits.maxFrameBytes) {
      return fail('too_large', `the frame is over ${limits.maxFrameBytes} bytes`);
    }
    // JSON.parse of a 64 KB, 32,000-deep text costs about 3 ms; a scan refuses it in microseconds.
    if (textNestingExceeds(raw, limits.maxDepth)) {
      return fail('bad_request', `nested deeper than ${limits.maxDepth} levels`);
    }
    const parsed = parseJson(raw);
    if (!parsed.ok) return parsed;
    value = parsed.value;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('bad_request', 'expected an object');
  }
  return validateObject(value as Record<string, unknown>, limits);
}

function validateObject(value: Record<string, unknown>, limits: FrameLimits): ParseResult {
  const id = echoableId(value);
  if (nestingDepth(value, limits.maxDepth) > limits.maxDepth) {
    return fail('bad_request', `nested deeper than ${limits.maxDepth} levels`, id);
  }
  const type = Object.hasOwn(value, 'type') ? value.type : undefined;
  if (typeof type !== 'string') return fail('bad_request', '/type: expected string', id);
  const checker = CHECKERS.get(type);
  if (checker === undefined) {
    return fail('unknown_type', `unknown type ${JSON.stringify(type.slice(0, 64))}`, id);
  }
  const badPath = findBadString(value, (text) => hasLoneSurrogate(text) || hasNul(text));
  if (badPath !== undefined) {
    return fail('bad_request', `${badPath}: contains a lone surrogate or U+0000`, id);
  }
  const frame = copyKnownFields(value, checker.schema);
  // The compiled Check is the fast path; the (interpreted) error walk runs only for a bad frame.
  const schemaError = checker.check.Check(frame) ? undefined : checker.check.Errors(frame).First();
  if (schemaError !== undefined) return fail('bad_request', describeSchemaError(schemaError), id);
  const ruleError = checkContentRules(frame as ClientFrame, limits);
  if (ruleError !== undefined) return { ...ruleError, ...(id === undefined ? {} : { id }) };
  return { ok: true, frame: frame as ClientFrame };
}

/** A fresh object with only the model's own fields; nothing is read through the prototype. */
function copyKnownFields(value: Record<string, unknown>, schema: TObject): Record<string, unknown> {
  const frame: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    if (Object.hasOwn(value, key) && value[key] !== undefined) frame[key] = value[key];
  }
  return frame;
}

type RuleError = { ok: false; code: ErrorCode; message: string };

/**
 * docs/design.md#content-rules, #ids-and-limits rules that a schema cannot say: blank content, byte
 * sizes, reserved ids.
 */
function checkContentRules(frame: ClientFrame, limits: FrameLimits): RuleError | undefined {
  if ('thread_id' in frame && !isAcceptableId(frame.thread_id)) {
    return { ok: false, code: 'bad_request', message: '/thread_id: this id is reserved' };
  }
  switch (frame.type) {
    case 'message':
      if (isBlank(frame.content)) {
        return { ok: false, code: 'empty_message', message: 'content is empty' };
      }
      return (
        checkBytes('/content', utf8Bytes(frame.content), limits.maxContentBytes) ??
        checkObjectBytes('/metadata', frame.metadata, limits.maxObjectBytes)
      );
    case 'memory.query':
      if (isBlank(frame.query)) {
        return { ok: false, code: 'bad_request', message: '/query: must not be blank' };
      }
      return checkBytes('/query', utf8Bytes(frame.query), limits.maxQueryBytes);
    case 'preferences.set':
      return checkObjectBytes('/preferences', frame.preferences, limits.maxObjectBytes);
    case 'personalization.set':
      return checkObjectBytes('/state', frame.state, limits.maxObjectBytes);
    default:
      return undefined;
  }
}

function checkObjectBytes(path: string, value: unknown, limit: number): RuleError | undefined {
  if (value === undefined) return undefined;
  return checkBytes(path, utf8Bytes(JSON.stringify(value)), limit);
}

function checkBytes(path: string, bytes: number, limit: number): RuleError | undefined {
  if (bytes <= limit) return undefined;
  return {
    ok: false,
    code: 'too_large',
    message: `${path}: ${bytes} bytes; the limit is ${limit}`,
  };
}

/** "/content: expected string", using the model's own wording when it has one. */
function describeSchemaError(error: ValueError): string {
  const path = error.path === '' ? '/' : error.path;
  if (error.message === 'Expected required property') return `${path}: is required`;
  const custom = (error.schema as { errorMessage?: unknown }).errorMessage;
  if (typeof custom === 'string') return `${path}: ${custom}`;
  return `${path}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
}

/** The frame's `id`, when it is safe to echo back (a short id-shaped string). */
function echoableId(value: Record<string, unknown>): string | undefined {
  const id = Object.hasOwn(value, 'id') ? value.id : undefined;
  return typeof id === 'string' && ID_PATTERN.test(id) ? id : undefined;
}

function isBinary(raw: unknown): boolean {
  return raw instanceof ArrayBuffer || ArrayBuffer.isView(raw) || raw instanceof SharedArrayBuffer;
}

function fail(code: ErrorCode, message: string, id?: string): ParseResult {
  return id === undefined ? { ok: false, code, message } : { ok: false, code, message, id };
}

type JsonOutcome = { ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string };

function parseJson(text: string): JsonOutcome {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // JavaScriptCore's messages carry no position, so find it ourselves (docs/faults.md#w1).
    const offset = jsonErrorOffset(text);
    const where = offset < 0 ? '' : ` at position ${offset}`;
    return { ok: false, code: 'bad_request', message: `invalid JSON${where}` };
  }
}

/** True when brackets outside strings nest deeper than `limit` (the text may still be invalid). */
function textNestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

type ScanState = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'after';

/**
 * Offset (UTF-16 code units) of the first JSON syntax error in `text`, or -1 when none is found.
 * Iterative, so a hostile 32,000-deep input cannot exhaust the stack.
 */
export function jsonErrorOffset(text: string): number {
  const stack: string[] = [];
  let state: ScanState = 'value';
  let i = 0;
  for (;;) {
    i = skipWhiteSpace(text, i);
    if (i >= text.length) return state === 'after' && stack.length === 0 ? -1 : text.length;
    const char = text[i];
    if (state === 'after') {
      const top = stack.at(-1);
      if (top === undefined) return i;
      if (char === ',') state = top === '{' ? 'key' : 'value';
      else if (char !== (top === '{' ? '}' : ']')) return i;
      else stack.pop();
      i += 1;
    } else if (state === 'key' || state === 'keyOrClose') {
      if (state === 'keyOrClose' && char === '}') {
        stack.pop();
        state = 'after';
        i += 1;
        continue;
      }
      if (char !== '"') return i;
      const end = scanString(text, i);
      if (end < 0) return -end - 1;
      i = skipWhiteSpace(text, end);
      if (text[i] !== ':') return i;
      i += 1;
      state = 'value';
    } else {
      if (state === 'valueOrClose' && char === ']') {
        stack.pop();
        state = 'after';
        i += 1;
        continue;
      }
      if (char === '{' || char === '[') {
        stack.push(char);
        state = char === '{' ? 'keyOrClose' : 'valueOrClose';
        i += 1;
        continue;
      }
      const end = scanScalar(text, i);
      if (end < 0) return -end - 1;
      i = end;
      state = 'after';
    }
  }
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_ESCAPE = /["\\/bfnrt]/;
const HEX4 = /^[0-9a-fA-F]{4}$/;

function skipWhiteSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i += 1;
  return i;
}

/** End offset of the scalar at `from`, or -(error offset + 1). */
function scanScalar(text: string, from: number): number {
  if (text[from] === '"') return scanString(text, from);
  for (const word of ['true', 'false', 'null']) {
    if (text.startsWith(word, from)) return from + word.length;
  }
  JSON_NUMBER.lastIndex = from;
  const match = JSON_NUMBER.exec(text);
  return match === null || match[0].length === 0 ? -(from + 1) : from + match[0].length;
}

/** End offset (after the closing quote) of the string at `from`, or -(error offset + 1). */
function scanString(text: string, from: number): number {
  let i = from + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return -(i + 1);
    if (code === 0x5c) {
      const escaped = text[i + 1] ?? '';
      if (escaped === 'u') {
        if (!HEX4.test(text.slice(i + 2, i + 6))) return -(i + 1);
        i += 6;
        continue;
      }
      if (!JSON_ESCAPE.test(escaped)) return -(i + 1);
      i += 2;
      continue;
    }
    i += 1;
  }
  return -(text.length + 1);
}
