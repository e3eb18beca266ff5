/**
 * @module Request validators for the Zep APIs, so tests can assert that lifeline only ever sends
 * well-formed requests. v1 is checked against the upstream Swagger file
 * (`test/fixtures/zep/swagger.json`, tag v0.27.2) with the corrections listed beside it in
 * `PROVENANCE.md`; v2 has no published spec, so its schemas are written here in TypeBox from
 * docs/zep.md#shapes.
 *
 * Both return a list of problems (empty = valid). A problem starts with the part of the request it
 * is about: `route`, `path`, `query`, or the JSON pointer into the body (`body/messages/0/role`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv';

/**
 * The v1 Swagger file, a fixture kept byte for byte (provenance:
 * `test/fixtures/zep/PROVENANCE.md`).
 */
export const SWAGGER_PATH = join(import.meta.dir, '../fixtures/zep/swagger.json');

/** The SHA-256 of that file as published upstream (tag v0.27.2); a test checks the bytes. */
export const SWAGGER_SHA256 = 'bd19578311bf68e476655a01f5557ed549f8cdafbae872cb8131ca6c0a15e7be';

const SAFE_ID = /^[A-Za-z0-9._-]+$/;

interface SwaggerParam {
  name: string;
  in: 'path' | 'query' | 'body';
  type?: string;
  required?: boolean;
  schema?: object;
}

type SwaggerPaths = Record<string, Record<string, { parameters?: SwaggerParam[] }>>;

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
let v1Spec: { paths: SwaggerPaths } | null = null;
const compiled = new Map<string, ValidateFunction>();

/**
 * Loads the Swagger file once and registers its definitions, corrected where the spec is known to
 * be wrong or too loose (PROVENANCE.md, docs/zep.md#shapes): `user_id` on session create may be
 * null; a memory POST needs `messages` (at least one, docs/design.md#memory guards) and each
 * message needs `role` and `content`. `basePath` is ignored because every path already carries
 * `/api/v1`.
 */
function loadV1(): { paths: SwaggerPaths } {
  if (v1Spec) return v1Spec;
  const spec = JSON.parse(readFileSync(SWAGGER_PATH, 'utf8'));
  const defs = spec.definitions;
  defs['models.CreateSessionRequest'].properties.user_id = { type: ['string', 'null'] };
  defs['models.Memory'].required = ['messages'];
  defs['models.Memory'].properties.messages.minItems = 1;
  defs['models.Message'].required = ['role', 'content'];
  ajv.addSchema({ $id: 'zep-v1', definitions: defs });
  v1Spec = spec;
  return spec;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'enum'
        ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
        : '';
    return `body${e.instancePath}: ${e.message}${extra}`;
  });
}

function validatorFor(key: string, schema: object): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

/** Rewrites Swagger-local `#/definitions/x` refs to the registered `zep-v1` document. */
function rebaseRefs(schema: object): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', '"zep-v1#/definitions/'));
}

/** Matches a concrete path against templates; literal segments beat `{param}` ones. */
function matchTemplate(templates: string[], path: string) {
  const segs = path.split('/');
  let best: { template: string; params: Record<string, string>; literals: number } | null = null;
  for (const template of templates) {
    const parts = template.split('/');
    if (parts.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const ok = parts.every((part, i) => {
      const seg = segs[i] ?? '';
      if (part.startsWith('{') && part.endsWith('}')) {
        params[part.slice(1, -1)] = seg;
        return seg !== '';
      }
      literals += 1;
      return part === seg;
    });
    if (ok && (!best || literals > best.literals)) best = { template, params, literals };
  }
  return best;
}

function checkQueryValue(name: string, type: string | undefined, value: string): string | null {
  if (type === 'integer' && !/^-?\d+$/.test(value))
    return `query ${name}: must be an integer, got "${value}"`;
  if (type === 'integer' && Number(value) < 0) return `query ${name}: must not be negative`;
  if (type === 'number' && Number.isNaN(Number(value))) return `query ${name}: must be a number`;
  if (type === 'boolean' && value !== 'true' && value !== 'false')
    return `query ${name}: must be true or false`;
  return null;
}

function checkPathIds(params: Record<string, string>, decode: boolean): string[] {
  return Object.entries(params).flatMap(([name, raw]) => {
    let value = raw;
    if (decode) {
      try {
        value = decodeURIComponent(raw);
      } catch {
        return [`path ${name}: invalid percent-encoding "${raw}"`];
      }
    }
    return SAFE_ID.test(value)
      ? []
      : [`path ${name}: "${raw}" is outside [A-Za-z0-9._-] (docs/zep.md#operations)`];
  });
}

/**
 * Validates a v1 request: route and method exist in the spec, path ids are safe, query values
 * have their declared types, and the JSON body matches its schema.
 * @param target the path, optionally with `?query`.
 * @param body the parsed JSON body, or undefined for none.
 */
export function validateV1Request(method: string, target: string, body: unknown): string[] {
  const spec = loadV1();
  const url = new URL(target, 'http://zep');
  const match = matchTemplate(Object.keys(spec.paths), url.pathname);
  if (!match) return [`route: no ${url.pathname} in the v1 spec`];
  const op = spec.paths[match.template]?.[method.toLowerCase()];
  if (!op) return [`route: ${method} is not allowed on ${match.template}`];
  const params = op.parameters ?? [];
  const problems = checkPathIds(match.params, false);
  for (const [name, value] of url.searchParams) {
    const declared = params.find((p) => p.in === 'query' && p.name === name);
    const problem = declared
      ? checkQueryValue(name, declared.type, value)
      : `query ${name}: not in the spec`;
    if (problem) problems.push(problem);
  }
  const bodyParam = params.find((p) => p.in === 'body');
  if (!bodyParam) {
    if (body !== undefined) problems.push(`body: ${method} ${match.template} takes no body`);
    return problems;
  }
  if (body === undefined) return [...problems, 'body: required'];
  const validate = validatorFor(
    `v1 ${method} ${match.template}`,
    rebaseRefs(bodyParam.schema ?? {}),
  );
  if (!validate(body)) problems.push(...formatErrors(validate.errors));
  if (match.template.endsWith('/search') && isBlankSearch(body)) {
    problems.push(
      'body: needs text or metadata, else the server answers 500 "empty query" (docs/zep.md#shapes)',
    );
  }
  return problems;
}

function isBlankSearch(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { text, metadata } = body as { text?: unknown; metadata?: unknown };
  return (typeof text !== 'string' || text === '') && metadata === undefined;
}

const Meta = Type.Record(Type.String(), Type.Unknown());
const ROLE_TYPES = ['norole', 'system', 'assistant', 'user', 'function', 'tool'];
const RoleType = Type.Unsafe<string>({ type: 'string', enum: ROLE_TYPES });
const Opt = Type.Optional;

/** `POST /api/v2/users` body (docs/zep.md#shapes). */
export const V2CreateUser = Type.Object({
  user_id: Type.String({ minLength: 1 }),
  email: Opt(Type.String()),
  first_name: Opt(Type.String()),
  last_name: Opt(Type.String()),
  metadata: Opt(Meta),
  fact_rating_instruction: Opt(Type.Unknown()),
});

/** `POST /api/v2/sessions` body; `user_id` is optional on CE, required on Cloud. */
export const V2CreateSession = Type.Object({
  session_id: Type.String({ minLength: 1 }),
  user_id: Opt(Type.String({ minLength: 1 })),
  metadata: Opt(Meta),
  fact_rating_instruction: Opt(Type.Unknown()),
});

/** One message on write: `role_type` is required and from the enum; content ≤ 2,500 chars (CE). */
export const V2Message = Type.Object({
  uuid: Opt(Type.String()),
  created_at: Opt(Type.String()),
  updated_at: Opt(Type.String()),
  role_type: RoleType,
  role: Opt(Type.String()),
  content: Type.String({ maxLength: 2500 }),
  metadata: Opt(Meta),
  token_count: Opt(Type.Integer()),
});

/**
 * `POST /api/v2/sessions/{id}/memory` body: 1–30 messages (CE limit; docs/design.md#memory forbids
 * empty).
 */
export const V2AddMemory = Type.Object({
  messages: Type.Array(V2Message, { minItems: 1, maxItems: 30 }),
  return_context: Opt(Type.Boolean()),
  ignore_roles: Opt(Type.Array(RoleType)),
  fact_instruction: Opt(Type.String()),
  summary_instruction: Opt(Type.String()),
});

/** `POST /api/v2/sessions/search` body; send `session_ids` or `user_id` (docs/zep.md#shapes). */
export const V2SessionSearchQuery = Type.Object({
  text: Type.String({ minLength: 1 }),
  user_id: Opt(Type.String()),
  session_ids: Opt(Type.Array(Type.String(), { minItems: 1 })),
  search_scope: Opt(
    Type.Unsafe<string>({ type: 'string', enum: ['messages', 'summary', 'facts'] }),
  ),
  search_type: Opt(Type.Unsafe<string>({ type: 'string', enum: ['similarity', 'mmr'] })),
  mmr_lambda: Opt(Type.Number()),
  min_score: Opt(Type.Number()),
  min_fact_rating: Opt(Type.Number()),
  record_filter: Opt(Meta),
});

interface V2Route {
  readonly method: string;
  readonly template: string;
  readonly query: Record<string, string>;
  readonly body?: TSchema;
  readonly cloudOnly?: boolean;
}

const V2_ROUTES: V2Route[] = [
  { method: 'POST', template: '/api/v2/users', query: {}, body: V2CreateUser },
  { method: 'GET', template: '/api/v2/users/{userId}', query: {} },
  {
    method: 'GET',
    template: '/api/v2/users-ordered',
    query: { pageNumber: 'integer', pageSize: 'integer' },
  },
  { method: 'POST', template: '/api/v2/sessions', query: {}, body: V2CreateSession },
  {
    method: 'POST',
    template: '/api/v2/sessions/search',
    query: { limit: 'integer' },
    body: V2SessionSearchQuery,
  },
  { method: 'GET', template: '/api/v2/sessions/{sessionId}', query: {} },
  {
    method: 'GET',
    template: '/api/v2/sessions/{sessionId}/memory',
    query: { lastn: 'integer', minRating: 'number' },
  },
  { method: 'POST', template: '/api/v2/sessions/{sessionId}/memory', query: {}, body: V2AddMemory },
  { method: 'DELETE', template: '/api/v2/sessions/{sessionId}/memory', query: {} },
  {
    method: 'POST',
    template: '/api/v2/sessions/{sessionId}/search',
    query: { limit: 'integer' },
    cloudOnly: true,
  },
];

/**
 * Validates a v2 request against docs/zep.md#shapes. The deprecated Cloud-only per-session search
 * is reported as a problem unless `edition` is `cloud`.
 */
export function validateV2Request(
  method: string,
  target: string,
  body: unknown,
  edition: 'ce' | 'cloud' = 'ce',
): string[] {
  const url = new URL(target, 'http://zep');
  const match = matchTemplate([...new Set(V2_ROUTES.map((r) => r.template))], url.pathname);
  if (!match) return [`route: no ${url.pathname} in the v2 contract`];
  const route = V2_ROUTES.find((r) => r.template === match.template && r.method === method);
  if (!route) return [`route: ${method} is not allowed on ${match.template}`];
  const problems = checkPathIds(match.params, true);
  if (route.cloudOnly && edition !== 'cloud')
    problems.push(`route: ${match.template} exists on Cloud only`);
  for (const [name, value] of url.searchParams) {
    const type = route.query[name];
    const problem = type
      ? checkQueryValue(name, type, value)
      : `query ${name}: not in the contract`;
    if (problem) problems.push(problem);
  }
  if (!route.body) {
    if (body !== undefined && !route.cloudOnly)
      problems.push(`body: ${method} ${match.template} takes no body`);
    return problems;
  }
  if (body === undefined) return [...problems, 'body: required'];
  const validate = validatorFor(`v2 ${method} ${match.template}`, route.body);
  if (!validate(body)) problems.push(...formatErrors(validate.errors));
  if (route.body === V2SessionSearchQuery && typeof body === 'object' && body !== null) {
    const { session_ids, user_id } = body as { session_ids?: unknown; user_id?: unknown };
    if (session_ids === undefined && user_id === undefined)
      problems.push('body: send session_ids or user_id');
  }
  return problems;
}
