/**
 * The command table and the CLI's usage errors (docs/design.md#cli): exit 2 with a suggestion.
 */
import { describe, expect, test } from 'bun:test';
import { join, resolve } from 'node:path';
import { COMMANDS } from '../../src/cli/commands.ts';
import { run, sourceCli } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';

describe('command table', () => {
  test('lists exactly the commands docs/design.md#cli names', () => {
    expect(COMMANDS.map((command) => command.name).sort()).toEqual(
      ['backup', 'check', 'config', 'migrate', 'serve', 'token', 'version'].sort(),
    );
  });
});

const SRC = resolve(import.meta.dir, '..', '..', 'src');

/**
 * The source files a fresh process has loaded after importing the CLI entry point and the command
 * table and running `argv`'s command through the table, relative to src/ (libraries as
 * `node_modules`).
 */
async function modulesLoadedBy(argv: string[], cwd: string): Promise<string[]> {
  const probe = [
    `await import(${JSON.stringify(join(SRC, 'cli', 'main.ts'))});`,
    `const { COMMANDS } = await import(${JSON.stringify(join(SRC, 'cli', 'commands.ts'))});`,
    `const [name, ...rest] = ${JSON.stringify(argv)};`,
    'await COMMANDS.find((c) => c.name === name).run({ values: {}, positionals: rest });',
    "process.stderr.write(JSON.stringify(Object.keys(require.cache)) + '\\n');",
  ].join('\n');
  const out = await run([process.execPath, '--eval', probe], { cwd });
  expect(out.exitCode).toBe(0);
  const loaded = JSON.parse(out.stderr.trim().split('\n').at(-1) ?? '[]') as string[];
  return loaded
    .filter((path) => !path.endsWith('package.json'))
    .map((path) => (path.includes('/node_modules/') ? 'node_modules' : path.slice(SRC.length + 1)));
}

describe('lazy command modules', () => {
  test('version (and the entry point with its help and suggestions) loads no library and no other command', async () => {
    using dir = tempDir('lifeline-cli');
    const loaded = await modulesLoadedBy(['version'], dir.path);
    expect(loaded).toContain('cli/version.ts');
    expect(loaded).not.toContain('node_modules');
    const outside = loaded.filter(
      (path) => !/^(cli|lib)\//.test(path) && path !== 'config/suggest.ts',
    );
    expect(outside).toEqual([]);
    for (const other of ['serve', 'check', 'migrate', 'config', 'token', 'backup'])
      expect(loaded).not.toContain(`cli/${other}.ts`);
  });

  test('a command runs its own module: migrate loads storage', async () => {
    using dir = tempDir('lifeline-cli');
    const loaded = await modulesLoadedBy(['migrate'], dir.path);
    expect(loaded).toContain('cli/migrate.ts');
    expect(loaded).toContain('node_modules');
    expect(loaded).not.toContain('cli/serve.ts');
  });
});

describe('usage errors', () => {
  test.each([
    [['verison'], 'did you mean "version"?'],
    [['check', '--prot', '1'], 'did you mean --port?'],
    [['serve', '--port', 'seventy'], '--port'],
    [['config', 'frob'], 'expected show, get, set or unset'],
    [['config', 'get', 'breaker.cooldwn_s'], 'did you mean breaker.cooldown_s?'],
    [['config', 'set', 'server.port', '1'], 'not a runtime tunable'],
    [['config', 'set', 'breaker.cooldown_s', 'soon'], 'breaker.cooldown_s'],
    [['backup'], 'usage: lifeline backup FILE'],
  ])('lifeline %p exits 2 and says %p', async (argv, expected) => {
    using dir = tempDir('lifeline-cli');
    const out = await run([...sourceCli(), ...argv], { cwd: dir.path });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain(expected);
  });

  test('every command answers --help with its usage line', async () => {
    using dir = tempDir('lifeline-cli');
    for (const command of COMMANDS) {
      const out = await run([...sourceCli(), command.name, '--help'], { cwd: dir.path });
      expect(out.exitCode).toBe(0);
      expect(out.stdout).toContain(`usage: ${command.usage}`);
    }
  });
});

describe('config overrides', () => {
  test('set, get and unset round-trip through the database', async () => {
    using dir = tempDir('lifeline-cli');
    const cli = sourceCli();
    expect(
      (await run([...cli, 'config', 'set', 'breaker.cooldown_s', '12'], { cwd: dir.path }))
        .exitCode,
    ).toBe(0);
    const got = await run([...cli, 'config', 'get', 'breaker.cooldown_s'], { cwd: dir.path });
    expect(got.stdout).toBe('12\t(runtime override)\n');
    await run([...cli, 'config', 'unset', 'breaker.cooldown_s'], { cwd: dir.path });
    const after = await run([...cli, 'config', 'get', 'breaker.cooldown_s'], { cwd: dir.path });
    expect(after.stdout).toBe('30\t(default)\n');
  });

  test('unset is refused, and removes nothing, when the config left behind breaks a rule', async () => {
    using dir = tempDir('lifeline-cli');
    const cli = sourceCli();
    const config = dir.join('lifeline.toml');
    await Bun.write(config, '[limits]\nmessages_per_s = 10\nburst = 10\n');
    const inDir = { cwd: dir.path };
    const set = async (key: string, value: string) =>
      (await run([...cli, 'config', 'set', key, value, '--config', config], inDir)).exitCode;
    expect(await set('limits.burst', '30')).toBe(0);
    expect(await set('limits.messages_per_s', '25')).toBe(0);
    // Without the burst override the file's burst 10 would sit below the rate override 25.
    const refused = await run(
      [...cli, 'config', 'unset', 'limits.burst', '--config', config],
      inDir,
    );
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('limits.burst');
    const burst = await run([...cli, 'config', 'get', 'limits.burst', '--config', config], inDir);
    expect(burst.stdout).toBe('30\t(runtime override)\n');
    // In the other order both removals are fine: the file's own values agree with each other.
    const ok = (key: string) => run([...cli, 'config', 'unset', key, '--config', config], inDir);
    expect((await ok('limits.messages_per_s')).exitCode).toBe(0);
    expect((await ok('limits.burst')).exitCode).toBe(0);
    const after = await run([...cli, 'config', 'get', 'limits.burst', '--config', config], inDir);
    expect(after.stdout).toContain('10\t');
  });
});

describe('token', () => {
  test('mints a token the dev key verifies, stable across runs', async () => {
    using dir = tempDir('lifeline-cli');
    const cli = sourceCli();
    const first = await run([...cli, 'token', '--user', 'alice', '--ttl', '15m'], {
      cwd: dir.path,
    });
    expect(first.exitCode).toBe(0);
    const [, payload] = first.stdout.trim().split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      number | string
    >;
    expect(claims.sub).toBe('alice');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    const { devJwtSecret } = await import('../../src/storage/sqlite/dev-secret.ts');
    const { openDatabase } = await import('../../src/storage/sqlite/open.ts');
    const handle = openDatabase(dir.join('data', 'lifeline.db'));
    const { jwtVerify } = await import('jose');
    const key = new TextEncoder().encode(devJwtSecret(handle));
    handle.close();
    const verified = await jwtVerify(first.stdout.trim(), key, { algorithms: ['HS256'] });
    expect(verified.payload.sub).toBe('alice');
  });

  test.each([
    [['token'], '--user ID is required'],
    [['token', '--user', 'bad user'], 'must match'],
    [['token', '--user', 'a', '--ttl', 'soon'], 'expected a duration'],
  ])('lifeline %p is a usage error', async (argv, expected) => {
    using dir = tempDir('lifeline-cli');
    const out = await run([...sourceCli(), ...argv], { cwd: dir.path });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain(expected);
  });
});
