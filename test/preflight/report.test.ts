import { describe, expect, test } from 'bun:test';
import { colorWanted, formatReport, formatReportJson } from '../../src/preflight/report.ts';
import type { CheckRun } from '../../src/preflight/run.ts';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[`);
const ANSI_ALL = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

const run: CheckRun = {
  ok: false,
  strict: false,
  results: [
    { name: 'config', status: 'ok', detail: 'valid (lifeline.toml)', durationMs: 0.42 },
    {
      name: 'port',
      status: 'fail',
      detail: '127.0.0.1:7400 is already in use',
      fix: 'stop the other process or set server.port',
      durationMs: 1.5,
    },
    {
      name: 'disk-space',
      status: 'warn',
      detail: '150 MB free',
      fix: 'free space',
      items: ['first item', 'second item'],
      durationMs: 12.3,
    },
  ],
};

describe('formatReport', () => {
  test('prints one row per check with status, name, duration and detail, and the fix line under problems', () => {
    const lines = formatReport(run).trimEnd().split('\n');
    expect(lines).toEqual([
      'OK    config      0.4 ms  valid (lifeline.toml)',
      'FAIL  port        1.5 ms  127.0.0.1:7400 is already in use',
      '                          fix: stop the other process or set server.port',
      'WARN  disk-space   12 ms  150 MB free',
      '                          - first item',
      '                          - second item',
      '                          fix: free space',
      '1 failed, 1 warning, 1 ok',
    ]);
  });

  test('has no colour codes unless told the output is a terminal', () => {
    expect(formatReport(run)).not.toMatch(ANSI);
    expect(formatReport(run, { color: false })).not.toMatch(ANSI);
    const coloured = formatReport(run, { color: true });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI_ALL, '')).toBe(formatReport(run));
  });

  test('summarises a clean run and notes --strict', () => {
    const clean: CheckRun = {
      ok: true,
      strict: true,
      results: [{ name: 'config', status: 'ok', detail: 'valid', durationMs: 0 }],
    };
    expect(formatReport(clean).trimEnd().split('\n').at(-1)).toBe('all 1 checks passed (--strict)');
  });
});

describe('formatReportJson', () => {
  test('parses back to ok plus every result with its fields', () => {
    expect(JSON.parse(formatReportJson(run))).toEqual({
      ok: false,
      strict: false,
      results: [
        { name: 'config', status: 'ok', detail: 'valid (lifeline.toml)', durationMs: 0.42 },
        {
          name: 'port',
          status: 'fail',
          detail: '127.0.0.1:7400 is already in use',
          fix: 'stop the other process or set server.port',
          durationMs: 1.5,
        },
        {
          name: 'disk-space',
          status: 'warn',
          detail: '150 MB free',
          fix: 'free space',
          items: ['first item', 'second item'],
          durationMs: 12.3,
        },
      ],
    });
  });
});

describe('colorWanted', () => {
  test.each([
    ['a terminal', { isTTY: true }, {}, true],
    ['a pipe', { isTTY: false }, {}, false],
    ['a stream without isTTY', {}, {}, false],
    ['a terminal with NO_COLOR=1', { isTTY: true }, { NO_COLOR: '1' }, false],
    ['a terminal with an empty NO_COLOR', { isTTY: true }, { NO_COLOR: '' }, true],
    ['a terminal with TERM=dumb', { isTTY: true }, { TERM: 'dumb' }, false],
  ])('%s → colour %p', (_label, stream, env, expected) => {
    expect(colorWanted(stream, env)).toBe(expected);
  });
});
