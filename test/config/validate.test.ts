import { describe, expect, test } from 'bun:test';
import { formatIssue } from '../../src/config/issue.ts';
import { loadPlain, loadToml } from './helpers.ts';

const SECRET_32 = 'x'.repeat(32);

/** Each row: a TOML text, the key the issue names, its line, and words its message must hold. */
describe('file issues name key, file:line and what was expected', () => {
  test.each([
    {
      kind: 'wrong type',
      toml: '[server]\nport = "7400"\n',
      key: 'server.port',
      line: 2,
      expect: ['server.port', 'an integer from 0 to 65535', 'got "7400"'],
    },
    {
      kind: 'float for an integer',
      toml: '[breaker]\n\ncooldown_s = 1.5\n',
      key: 'breaker.cooldown_s',
      line: 3,
      expect: ['breaker.cooldown_s', 'an integer from 1 to 86400', 'got 1.5'],
    },
    {
      kind: 'below range',
      toml: '[outbox]\nmax_in_flight = 0\n',
      key: 'outbox.max_in_flight',
      line: 2,
      expect: ['outbox.max_in_flight', 'from 1 to 64', 'got 0'],
    },
    {
      kind: 'above range',
      toml: '[server]\nhost = "h"\nidle_timeout_s = 5000\n',
      key: 'server.idle_timeout_s',
      line: 3,
      expect: ['server.idle_timeout_s', 'from 35 to 960', 'got 5000'],
    },
    {
      kind: 'not in enum',
      toml: '[log]\nlevel = "verbose"\n',
      key: 'log.level',
      line: 2,
      expect: ['log.level', 'one of debug, info, warn, error'],
    },
    {
      kind: 'list of non-strings',
      toml: '[server]\nallowed_origins = [1, 2]\n',
      key: 'server.allowed_origins',
      line: 2,
      expect: ['server.allowed_origins', 'a list of strings'],
    },
    {
      kind: 'bad origin',
      toml: '[server]\nallowed_origins = ["https://a.test/"]\n',
      key: 'server.allowed_origins',
      line: 2,
      expect: ['server.allowed_origins entry 1', 'must be an origin'],
    },
    {
      kind: 'bad url',
      toml: '[memory.zep]\nbase_url = "zep.local:8000"\n',
      key: 'memory.zep.base_url',
      line: 2,
      expect: ['memory.zep.base_url', 'http:// or https://'],
    },
    {
      kind: 'dotted key on one line',
      toml: 'breaker.cooldown_s = -1\n',
      key: 'breaker.cooldown_s',
      line: 1,
      expect: ['breaker.cooldown_s', 'from 1 to 86400', 'got -1'],
    },
    {
      kind: 'table given a value',
      toml: 'server = 5\n',
      key: 'server',
      line: 1,
      expect: ['server is a section'],
    },
    {
      kind: 'key given a table',
      toml: '[server.port]\nvalue = 1\n',
      key: 'server.port',
      line: 1,
      expect: ['server.port', 'an integer'],
    },
    {
      kind: 'unknown key',
      toml: '[breaker]\ncooldown = 5\n',
      key: 'breaker.cooldown',
      line: 2,
      expect: ['unknown config key breaker.cooldown'],
    },
    {
      kind: 'unknown section',
      toml: '[brekaer]\ncooldown_s = 5\n',
      key: 'brekaer',
      line: 1,
      expect: ['unknown config key brekaer'],
    },
  ])('$kind', ({ toml, key, line, expect: words }) => {
    const result = loadToml(toml);
    expect(result.config).toBeUndefined();
    expect(result.issues).toHaveLength(1);
    const issue = result.issues[0]!;
    expect(issue.key).toBe(key);
    expect(issue.source).toBe(`${result.path}:${line}`);
    const text = formatIssue(issue);
    expect(text.startsWith(`${result.path}:${line}: `)).toBe(true);
    for (const word of words) expect(text).toContain(word);
  });

  test('a TOML syntax error names its line and column', () => {
    const result = loadToml('[server]\nport = 7400\nhost = \n');
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.source).toBe(`${result.path}:3`);
    expect(result.issues[0]?.message).toMatch(/^TOML syntax error at line 3, column \d+: /);
  });

  test('an unknown key suggests the key in the right section', () => {
    const result = loadToml('[memory]\ncooldown_s = 5\n');
    expect(result.issues[0]?.fix).toBe('did you mean breaker.cooldown_s?');
  });
});

describe('cross-key rules', () => {
  test.each([
    {
      rule: 'cooldown_s above cooldown_max_s',
      toml: '[breaker]\ncooldown_max_s = 20\ncooldown_s = 40\n',
      key: 'breaker.cooldown_s',
      line: 3,
      words: ['breaker.cooldown_s (40) must not exceed breaker.cooldown_max_s (20)'],
    },
    {
      rule: "the assistant circuit's own cooldown above the shared cooldown_max_s",
      toml: '[assistant.breaker]\ncooldown_s = 400\n',
      key: 'assistant.breaker.cooldown_s',
      line: 2,
      words: [
        "the assistant circuit's cooldown (400 s) must not exceed its cooldown_max_s (300 s)",
      ],
    },
    {
      rule: 'burst below messages_per_s',
      toml: '[limits]\nmessages_per_s = 50\nburst = 10\n',
      key: 'limits.burst',
      line: 3,
      words: ['limits.burst (10) must be at least limits.messages_per_s (50)'],
    },
    {
      rule: 'short HS256 secret',
      toml: '[auth]\njwt_secret = "too-short"\n',
      key: 'auth.jwt_secret',
      line: 2,
      words: ['auth.jwt_secret must be at least 32 bytes'],
    },
    {
      rule: 'two kinds of key material',
      toml: `[auth]\njwt_secret = "${SECRET_32}"\njwks_file = "/etc/jwks.json"\n`,
      key: 'auth.jwks_file',
      line: 3,
      words: ['only one of auth.jwt_secret, auth.jwt_public_key and auth.jwks_file'],
    },
    {
      rule: 'zep without base_url',
      toml: '[memory]\nbackend = "zep"\n',
      key: 'memory.zep.base_url',
      line: 2,
      words: ['memory.zep.base_url is required when memory.backend is "zep"'],
    },
    {
      rule: 'postgres without url',
      toml: '[storage]\nbackend = "postgres"\n',
      key: 'storage.postgres.url',
      line: 2,
      words: ['storage.postgres.url is required when storage.backend is "postgres"'],
    },
    {
      rule: 'http assistant without url and secret',
      toml: '[assistant]\nbackend = "http"\n',
      key: 'assistant.url',
      line: 2,
      words: ['assistant.url and assistant.secret are required when assistant.backend is "http"'],
    },
    {
      rule: 'http assistant without secret',
      toml: '[assistant]\nbackend = "http"\nurl = "https://agent.example.com/turn"\n',
      key: 'assistant.secret',
      line: 2,
      words: ['assistant.secret is required when assistant.backend is "http"'],
    },
  ])('$rule is an issue', ({ toml, key, line, words }) => {
    const result = loadToml(toml);
    expect(result.config).toBeUndefined();
    expect(result.issues.map((issue) => issue.key)).toEqual([key]);
    expect(result.issues[0]?.source).toBe(`${result.path}:${line}`);
    expect(result.issues[0]?.fix).toBeDefined();
    for (const word of words) expect(result.issues[0]?.message).toContain(word);
  });

  test('an assistant secret that is not whsec_ base64 is an issue that never shows it', () => {
    const toml =
      '[assistant]\nbackend = "http"\nurl = "https://a.example"\nsecret = "hunter2-secret"\n';
    const result = loadToml(toml);
    expect(result.config).toBeUndefined();
    expect(result.issues.map((issue) => issue.key)).toEqual(['assistant.secret']);
    expect(result.issues[0]?.message).toContain('whsec_');
    expect(JSON.stringify(result.issues)).not.toContain('hunter2');
  });

  test('an http assistant with url and a whsec_ secret, and the demo assistant, are accepted', () => {
    const http = loadToml(
      '[assistant]\nbackend = "http"\nurl = "https://a.example/turn"\nsecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\n',
    );
    expect(http.issues).toEqual([]);
    expect(http.config?.assistant.backend).toBe('http');
    const demo = loadToml('[assistant]\nbackend = "demo"\n');
    expect(demo.issues).toEqual([]);
    expect(demo.config?.assistant).toMatchObject({
      backend: 'demo',
      first_byte_timeout_ms: 30000,
      idle_timeout_ms: 30000,
      max_reply_bytes: 1048576,
      turn_ttl_s: 600,
      max_attempts: 8,
      max_in_flight: 64,
      history_messages: 20,
      memory_results: 5,
      on_new_message: 'queue',
    });
  });

  test('counts the secret in UTF-8 bytes', () => {
    // 11 three-byte characters: 11 characters but 33 bytes.
    const result = loadPlain({ env: { LIFELINE_AUTH_JWT_SECRET: '€'.repeat(11) } });
    expect(result.issues).toEqual([]);
  });

  test('skips a cross-key rule whose keys already failed their own check', () => {
    const result = loadToml('[breaker]\ncooldown_s = "x"\ncooldown_max_s = 20\n');
    expect(result.issues.map((issue) => issue.key)).toEqual(['breaker.cooldown_s']);
  });

  test('reports every issue, not only the first', () => {
    const result = loadToml('[server]\nport = -1\n[log]\nlevel = "loud"\n[limits]\nburst = 1\n');
    expect(result.issues.map((issue) => issue.key)).toEqual([
      'server.port',
      'log.level',
      'limits.burst',
    ]);
  });
});
