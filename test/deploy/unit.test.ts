/**
 * The systemd unit (docs/design.md#operations): `systemd-analyze verify` accepts it,
 * `systemd-analyze security` rates it at most 2.0, and the settings the daemon relies on are
 * present.
 */
import { describe, expect, test } from 'bun:test';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { keySpec } from '../../src/config/keys.ts';
import { run } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';
import { commandMissing, toolReady } from '../support/tools.ts';

const UNIT_PATH = resolve(import.meta.dir, '..', '..', 'deploy', 'lifeline.service');
const UNIT_TEXT = readFileSync(UNIT_PATH, 'utf8');
const INSTALLED_BINARY = '/usr/local/bin/lifeline';
const MAX_EXPOSURE = 2.0;

/** Fails with a clear message when systemd-analyze is missing (CI installs Debian's systemd). */
function systemdAnalyze(): string {
  const path = Bun.which('systemd-analyze');
  if (!path) {
    throw new Error(
      'systemd-analyze is not installed: `apt-get install systemd` (.ci/run installs it)',
    );
  }
  return path;
}

/**
 * Copies the unit into a temp dir with ExecStart pointing at a real executable there (a copy of
 * /bin/true named lifeline): verify checks that the ExecStart binary exists.
 */
function stageUnit(dir: string): string {
  const binary = join(dir, 'lifeline');
  copyFileSync('/bin/true', binary);
  const unit = join(dir, 'lifeline.service');
  writeFileSync(unit, UNIT_TEXT.replaceAll(INSTALLED_BINARY, binary));
  return unit;
}

/** All values of one directive in the [Service] section, in order. */
function directive(name: string): string[] {
  const values: string[] = [];
  for (const line of UNIT_TEXT.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match?.[1] === name) values.push(match[2]!.trim());
  }
  return values;
}

function seconds(value: string | undefined): number {
  const match = /^(\d+)s?$/.exec(value ?? '');
  if (!match) throw new Error(`not a plain seconds value: ${value}`);
  return Number(match[1]);
}

describe.skipIf(
  !toolReady(
    'the systemd unit tests',
    commandMissing('systemd-analyze', 'apt-get install systemd'),
  ),
)('deploy/lifeline.service', () => {
  test('passes systemd-analyze verify without warnings', async () => {
    const analyze = systemdAnalyze();
    using dir = tempDir('lifeline-unit');
    const unit = stageUnit(dir.path);
    const result = await run([analyze, 'verify', unit], { cwd: dir.path });
    const output = `${result.stdout}${result.stderr}`;
    expect(output.split('\n').filter((line) => line.includes('lifeline.service'))).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  test('has an overall security exposure of at most 2.0', async () => {
    const analyze = systemdAnalyze();
    using dir = tempDir('lifeline-unit');
    const unit = stageUnit(dir.path);
    const result = await run([analyze, 'security', '--offline=true', unit], { cwd: dir.path });
    expect(result.exitCode).toBe(0);
    const match = /Overall exposure level for \S+: ([\d.]+) (\S+)/.exec(result.stdout);
    if (!match) throw new Error(`no exposure line in:\n${result.stdout}${result.stderr}`);
    const exposure = Number(match[1]);
    console.log(`systemd-analyze security: overall exposure ${exposure} ${match[2]}`);
    expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  test('is a notify unit with a watchdog, run as a dynamic user with a state directory', () => {
    expect(directive('Type')).toEqual(['notify']);
    expect(directive('NotifyAccess')).toEqual(['main']);
    expect(directive('WatchdogSec')).toEqual(['30s']);
    expect(directive('DynamicUser')).toEqual(['yes']);
    expect(directive('StateDirectory')).toEqual(['lifeline']);
    expect(directive('ExecStart')).toEqual([
      `${INSTALLED_BINARY} serve --config /etc/lifeline/lifeline.toml`,
    ]);
  });

  test('never sets MemoryDenyWriteExecute, which breaks the JIT and bun:ffi', () => {
    expect(directive('MemoryDenyWriteExecute')).toEqual([]);
    expect(UNIT_TEXT).toContain('MemoryDenyWriteExecute=yes is deliberately NOT set');
  });

  test('gives the drain more time than its default deadline and reconnect window', () => {
    const drainS = keySpec('shutdown.drain_timeout_s')?.default;
    const windowS = keySpec('shutdown.reconnect_window_s')?.default;
    expect(typeof drainS).toBe('number');
    expect(typeof windowS).toBe('number');
    expect(seconds(directive('TimeoutStopSec')[0])).toBeGreaterThan(
      (drainS as number) + (windowS as number),
    );
    expect(directive('KillMode')).toEqual(['mixed']);
  });

  test('restarts on failure within a start limit but not after a usage error', () => {
    expect(directive('Restart')).toEqual(['on-failure']);
    expect(directive('StartLimitIntervalSec')).toHaveLength(1);
    expect(directive('StartLimitBurst')).toHaveLength(1);
    expect(directive('RestartPreventExitStatus')).toEqual(['2']);
  });
});
