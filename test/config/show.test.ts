import { describe, expect, test } from 'bun:test';
import { formatIssue } from '../../src/config/issue.ts';
import { REDACTED, renderConfigJson, renderConfigText, showConfig } from '../../src/config/show.ts';
import { loadPlain, loadToml } from './helpers.ts';

const SECRET = 'hunter2-Sup3rSecret-value-that-must-never-print';

describe('showConfig', () => {
  test('lists every key with value and source, secrets redacted', () => {
    const { config, meta } = loadPlain({
      env: { LIFELINE_AUTH_JWT_SECRET: SECRET, LIFELINE_AUTH_API_KEY: SECRET },
      flags: { 'server.port': '7500' },
    });
    const rows = showConfig(config!, meta);
    const byKey = new Map(rows.map((row) => [row.key, row]));
    expect(byKey.get('auth.jwt_secret')).toEqual({
      key: 'auth.jwt_secret',
      value: REDACTED,
      source: 'env',
      location: 'env LIFELINE_AUTH_JWT_SECRET',
      secret: true,
      tunable: false,
    });
    expect(byKey.get('server.port')).toMatchObject({
      value: 7500,
      source: 'flag',
      location: 'flag --port',
    });
    expect(byKey.get('breaker.cooldown_s')).toMatchObject({
      value: 30,
      source: 'default',
      tunable: true,
    });
    expect(byKey.get('memory.zep.api_key')).toMatchObject({ value: undefined, secret: true });
    expect(rows).toHaveLength(64);
  });

  test('the text table is aligned and never holds a secret', () => {
    const { config, meta } = loadPlain({
      env: { LIFELINE_STORAGE_POSTGRES_URL: `postgres://u:${SECRET}@db/x` },
    });
    const text = renderConfigText(showConfig(config!, meta));
    expect(text).not.toContain(SECRET);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY +VALUE +SOURCE$/);
    const valueColumn = lines[0]!.indexOf('VALUE');
    for (const line of lines.slice(1)) expect(line[valueColumn - 1]).toBe(' ');
    expect(lines.find((line) => line.startsWith('storage.postgres.url'))).toMatch(
      /^storage\.postgres\.url +\*{8} +env LIFELINE_STORAGE_POSTGRES_URL$/,
    );
    expect(lines.find((line) => line.startsWith('auth.api_key'))).toMatch(/\(unset\) +default$/);
  });

  test('JSON output redacts secrets and shows unset as null', () => {
    const { config, meta } = loadPlain({ env: { LIFELINE_MEMORY_ZEP_API_KEY: SECRET } });
    const json = renderConfigJson(showConfig(config!, meta));
    expect(json).not.toContain(SECRET);
    const rows = JSON.parse(json) as Array<{ key: string; value: unknown }>;
    expect(rows.find((row) => row.key === 'memory.zep.api_key')?.value).toBe(REDACTED);
    expect(rows.find((row) => row.key === 'auth.jwt_secret')?.value).toBeNull();
  });
});

describe('secrets never appear in issue text', () => {
  test.each([
    { where: 'a secret in an integer key', toml: `[server]\nport = "${SECRET}"\n` },
    { where: 'a secret in an enum key', toml: `[log]\nlevel = "${SECRET}"\n` },
    { where: 'a secret in a list key', toml: `[server]\nallowed_origins = ["${SECRET}"]\n` },
    { where: 'a secret under a misspelt key', toml: `[auth]\njwt_secrt = "${SECRET}"\n` },
    { where: 'a secret as a section', toml: `auth = "${SECRET}"\n` },
    { where: 'a short secret', toml: '[auth]\njwt_secret = "hunter2"\n', secret: 'hunter2' },
    {
      where: 'a secret of the wrong type',
      toml: '[auth]\napi_key = 123456789\n',
      secret: '123456789',
    },
    {
      where: 'a postgres url of the wrong scheme',
      toml: `[storage.postgres]\nurl = "mysql://u:${SECRET}@db"\n`,
    },
    { where: 'an unterminated secret string', toml: `[auth]\njwt_secret = "${SECRET}\n` },
    { where: 'a secret next to a syntax error', toml: `[auth]\njwt_secret = "${SECRET}" junk\n` },
  ])('$where', ({ toml, secret }) => {
    const result = loadToml(toml);
    expect(result.issues.length).toBeGreaterThan(0);
    const text = JSON.stringify(result.issues) + result.issues.map(formatIssue).join('\n');
    expect(text).not.toContain(secret ?? SECRET);
  });

  test.each([
    { name: 'LIFELINE_SERVER_PORT', value: SECRET },
    { name: 'LIFELINE_AUTH_JWT_SECRT', value: SECRET },
    { name: 'LIFELINE_SERVER_PUBLIC_ORIGINS', value: `[${SECRET}` },
    { name: 'LIFELINE_AUTH_JWT_SECRET', value: 'hunter2' },
  ])('in env $name', ({ name, value }) => {
    const result = loadPlain({ env: { [name]: value } });
    expect(result.issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(result.issues)).not.toContain(value);
  });

  test('in a flag', () => {
    const result = loadPlain({ flags: { 'server.port': SECRET, 'auth.jwt_secrt': SECRET } });
    expect(result.issues).toHaveLength(2);
    expect(JSON.stringify(result.issues)).not.toContain(SECRET);
  });
});
