/**
 * @module The config schema: the single source of truth for every key's type, default, range,
 * description, and whether it is a secret or a runtime tunable (docs/design.md#configuration).
 * Loading, validation, `config show`, docs/config.md and deploy/lifeline.example.toml are all
 * derived from it.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** Custom flags carried by a leaf schema next to TypeBox's own options. */
interface KeyFlags {
  /** The value is never printed: redacted in logs, `config show`, errors and status. */
  secret?: boolean;
  /** The key may be changed at run time through `config set` or the admin API. */
  tunable?: boolean;
  /** Shown in docs instead of `default` when the default is resolved at load time. */
  defaultText?: string;
}

const MIB = 1024 * 1024;

function int(def: number, min: number, max: number, description: string, flags: KeyFlags = {}) {
  return Type.Integer({ default: def, minimum: min, maximum: max, description, ...flags });
}

function num(def: number, min: number, max: number, description: string, flags: KeyFlags = {}) {
  return Type.Number({ default: def, minimum: min, maximum: max, description, ...flags });
}

function str(def: string, description: string, flags: KeyFlags = {}) {
  return Type.String({ default: def, description, ...flags });
}

/** An integer key with no default: absent unless a source sets it. */
function optionalInt(min: number, max: number, description: string, flags: KeyFlags = {}) {
  return Type.Optional(Type.Integer({ minimum: min, maximum: max, description, ...flags }));
}

/** A number key with no default: absent unless a source sets it. */
function optionalNum(min: number, max: number, description: string, flags: KeyFlags = {}) {
  return Type.Optional(Type.Number({ minimum: min, maximum: max, description, ...flags }));
}

/** A string key with no default: absent unless a source sets it. */
function optionalStr(description: string, flags: KeyFlags = {}) {
  return Type.Optional(Type.String({ description, ...flags }));
}

function oneOf<const T extends readonly string[]>(
  values: T,
  def: T[number],
  description: string,
  flags: KeyFlags = {},
) {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    { default: def, description, ...flags },
  ) as unknown as TSchema & { static: T[number] };
}

function strList(description: string) {
  return Type.Array(Type.String(), { default: [], description });
}

const tunable = { tunable: true } as const;
const secret = { secret: true } as const;

/**
 * The whole configuration, nested by section, with docs/design.md#configuration's snake_case names.
 */
export const configSchema = Type.Object({
  server: Type.Object({
    host: str('127.0.0.1', 'Address to bind; one port serves HTTP and WebSocket.'),
    port: int(7400, 0, 65535, 'TCP port for HTTP and WebSocket (0 picks a free port).'),
    data_dir: str('./data', 'Directory holding lifeline.db.', {
      defaultText: '$STATE_DIRECTORY (first entry) under systemd, else ./data',
    }),
    allowed_origins: strList(
      'Browser Origins allowed to open /ws (exact match); empty = the daemon’s own names only, plus clients that send no Origin.',
    ),
    public_origins: strList(
      'Origins the daemon is reached at behind a proxy (e.g. https://chat.example.com).',
    ),
    max_payload_bytes: int(
      65536,
      1024,
      16 * MIB,
      'Largest WebSocket frame; a larger one closes with 1009.',
    ),
    idle_timeout_s: int(120, 35, 960, 'Idle WebSocket timeout; the server pings every 30 s.'),
  }),
  storage: Type.Object({
    backend: oneOf(
      ['sqlite', 'postgres'] as const,
      'sqlite',
      'sqlite (one instance) or postgres (cluster mode).',
    ),
    postgres: Type.Object({
      url: optionalStr('PostgreSQL connection URL for cluster mode.', secret),
    }),
  }),
  cluster: Type.Object({
    instance_id: optionalStr(
      'This instance’s id in cluster mode (readyz, logs, metrics, members); default: hostname plus a random suffix per start.',
    ),
  }),
  auth: Type.Object({
    jwt_secret: optionalStr(
      'HS256 secret, at least 32 bytes. If no key is set, a random one is kept in the database (dev).',
      secret,
    ),
    jwt_public_key: optionalStr('RS256/ES256/EdDSA public key in PEM.'),
    jwks_file: optionalStr('Path of a JWKS file holding the verification keys.'),
    issuer: optionalStr('Required `iss` claim, checked when set.'),
    audience: optionalStr('Required `aud` claim, checked when set.'),
    leeway_s: int(30, 0, 300, 'Clock skew tolerated on exp/nbf.'),
    api_key: optionalStr(
      'Bearer key for the server-to-server and admin HTTP API; unset disables those routes (503).',
      secret,
    ),
    expiring_notice_s: int(60, 0, 3600, 'Tell a client this long before its token expires.'),
  }),
  memory: Type.Object({
    backend: oneOf(['local', 'zep'] as const, 'local', 'local (embedded, SQLite FTS5) or zep.'),
    timeout_ms: int(2000, 50, 60000, 'Per-request timeout, enforced with AbortSignal.', tunable),
    zep: Type.Object({
      base_url: optionalStr('Zep base URL (http or https), required when memory.backend = "zep".'),
      api_key: optionalStr('Zep API key.', secret),
      api_version: oneOf(
        ['v1', 'v2', 'v3'] as const,
        'v1',
        'Pinned Zep API version (v1: Zep 0.x; v2: CE 1.x and the sessions API; v3: Zep Cloud threads API); never probed at run time.',
      ),
      max_message_chars: int(
        2500,
        100,
        100000,
        'v3: longest content per Zep message, in characters; longer messages go as parts, never truncated (Zep Cloud: 2500 free, 14000 paid).',
      ),
    }),
  }),
  assistant: Type.Object({
    backend: oneOf(
      ['none', 'http', 'demo'] as const,
      'none',
      'Who answers user messages: none (no turns), http (POST assistant.url) or demo (the built-in word-by-word assistant, no network).',
    ),
    url: optionalStr(
      'The assistant endpoint (http or https), required when assistant.backend = "http".',
    ),
    secret: optionalStr(
      'Standard Webhooks signing secret (whsec_…), required when assistant.backend = "http".',
      secret,
    ),
    first_byte_timeout_ms: int(
      30000,
      100,
      600000,
      'An attempt fails when the assistant sends nothing for this long after the request.',
      tunable,
    ),
    idle_timeout_ms: int(
      30000,
      100,
      600000,
      'An attempt fails after this long between chunks.',
      tunable,
    ),
    max_reply_bytes: int(
      MIB,
      1024,
      64 * MIB,
      'Longest reply in UTF-8 bytes; longer fails with too_large.',
      tunable,
    ),
    turn_ttl_s: int(
      600,
      10,
      86400,
      'A turn not answered this long after its message ends expired.',
      tunable,
    ),
    max_attempts: int(8, 1, 100, 'Attempts per turn before it ends failed.', tunable),
    max_in_flight: int(64, 1, 10000, 'Turns streaming at once, across all threads.', tunable),
    history_messages: int(
      20,
      1,
      500,
      'Messages of the thread sent with a turn, oldest first.',
      tunable,
    ),
    memory_results: int(5, 0, 100, 'Memory search results sent with a turn (0 = none).', tunable),
    on_new_message: oneOf(
      ['queue', 'interrupt'] as const,
      'queue',
      'queue: a thread’s turns run one at a time, in order; interrupt: a new user message cancels the running turn.',
      tunable,
    ),
    breaker: Type.Object({
      failure_threshold: optionalInt(
        1,
        1000,
        'The assistant circuit’s breaker.failure_threshold (unset: breaker.failure_threshold).',
        tunable,
      ),
      cooldown_s: optionalInt(
        1,
        86400,
        'The assistant circuit’s breaker.cooldown_s (unset: breaker.cooldown_s).',
        tunable,
      ),
      cooldown_max_s: optionalInt(
        1,
        86400,
        'The assistant circuit’s breaker.cooldown_max_s (unset: breaker.cooldown_max_s).',
        tunable,
      ),
      backoff: optionalNum(
        1,
        10,
        'The assistant circuit’s breaker.backoff (unset: breaker.backoff).',
        tunable,
      ),
      half_open_max_calls: optionalInt(
        1,
        100,
        'The assistant circuit’s breaker.half_open_max_calls (unset: breaker.half_open_max_calls).',
        tunable,
      ),
    }),
  }),
  breaker: Type.Object({
    failure_threshold: int(5, 1, 1000, 'Consecutive failures that open the circuit.', tunable),
    cooldown_s: int(30, 1, 86400, 'Open → half-open after this.', tunable),
    cooldown_max_s: int(300, 1, 86400, 'Cap on the cooldown after repeated re-opens.', tunable),
    backoff: num(
      2,
      1,
      10,
      'Each re-open after a failed probe multiplies the cooldown (±10 % jitter).',
      tunable,
    ),
    half_open_max_calls: int(1, 1, 100, 'Probes allowed at once while half-open.', tunable),
  }),
  outbox: Type.Object({
    batch_size: int(50, 1, 1000, 'Messages per delivery to the memory service.', tunable),
    flush_interval_ms: int(200, 10, 60000, 'Delay between outbox flushes.', tunable),
    max_in_flight: int(4, 1, 64, 'Batches in flight at once, across all threads.', tunable),
  }),
  history: Type.Object({
    max_events: int(1000, 1, 1_000_000, 'Per-user replay buffer size for resume.', tunable),
    ttl_s: int(86400, 60, 2_592_000, 'Replay events older than this are dropped.', tunable),
  }),
  rehydration: Type.Object({
    recent_messages: int(20, 0, 500, 'Messages per thread in the rehydrate snapshot.', tunable),
    max_frame_bytes: int(
      256 * 1024,
      16384,
      64 * MIB,
      'Byte budget of a rehydrate frame (and of a thread.state page); the newest messages that fit are sent, the rest are paged with thread.join. At most half of limits.send_buffer_bytes is used.',
      tunable,
    ),
  }),
  limits: Type.Object({
    messages_per_s: int(20, 1, 10000, 'Per-connection token bucket rate.', tunable),
    burst: int(40, 1, 100000, 'Per-connection token bucket size.', tunable),
    sockets_per_user: int(32, 1, 10000, 'Sockets per user; the next closes with 4008.', tunable),
    upgrades_per_ip_per_s: int(
      50,
      1,
      100000,
      'WebSocket upgrades per client IP per second.',
      tunable,
    ),
    send_buffer_bytes: int(
      MIB,
      65536,
      64 * MIB,
      'Per-socket send buffer; past it the socket closes with 4008.',
      tunable,
    ),
    max_token_bytes: int(
      8192,
      1024,
      65536,
      'Longest accepted token; a longer one closes with 4001.',
      tunable,
    ),
  }),
  log: Type.Object({
    level: oneOf(
      ['debug', 'info', 'warn', 'error'] as const,
      'info',
      'Lowest level written.',
      tunable,
    ),
    format: oneOf(['json', 'pretty'] as const, 'json', 'json (journald) or pretty.', {
      defaultText: 'pretty on a TTY, else json',
    }),
  }),
  shutdown: Type.Object({
    drain_timeout_s: int(10, 1, 300, 'Deadline for flushing the outbox on SIGTERM.'),
    reconnect_window_s: int(
      5,
      0,
      300,
      'Clients are told to reconnect within a jittered delay up to this.',
    ),
  }),
  preflight: Type.Object({
    min_free_disk_mb: int(
      64,
      0,
      1_000_000,
      'Preflight fails when the data dir has less free space.',
    ),
  }),
});

/** The effective configuration every layer receives. */
export type Config = Static<typeof configSchema>;
