/**
 * The stand-alone checks of test/support/doc-links.ts on hand-made files: each kind of offending
 * reference is reported with its file and line, and the allowed forms are not.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  anchorsOf,
  brokenCitations,
  brokenLinks,
  headingSlug,
  outsideReferences,
} from './doc-links.ts';
import { tempDir } from './temp.ts';

// Built from parts so this file does not itself trip the rule it tests.
const up = ['..', 'shared'].join('/');
const spec = ['SPEC', '§8.14'].join(' ');

describe('outsideReferences', () => {
  test('names the file and line of each reference outside the repository', () => {
    const problems = outsideReferences([
      { rel: 'src/a.ts', text: `ok\n// see ${spec}\nconst p = '${up}/x.json';` },
      { rel: 'docs/b.md', text: `read /${'home'}/alice/notes.txt\nfine` },
      { rel: 'test/c.ts', text: `// ${['catalogue', 'M3'].join(' ')}: duplicates expected` },
    ]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toStartWith(`src/a.ts:2: "${spec.slice(0, 6)}"`);
    expect(problems[1]).toStartWith(`src/a.ts:3: "${up}"`);
    expect(problems[2]).toStartWith(`docs/b.md:1: "/${'home'}/a"`);
    expect(problems[3]).toStartWith('test/c.ts:1:');
  });

  test('allows system paths, URLs, the project documents and frozen migrations', () => {
    const problems = outsideReferences([
      { rel: 'src/a.ts', text: "'/usr/lib/postgresql', '/tmp/x', 'https://example.com/home/x'" },
      { rel: 'src/b.ts', text: '// docs/design.md#epochs, docs/faults.md#m3' },
      { rel: 'migrations/0001_epoch.sql', text: `-- ${spec}` },
    ]);
    expect(problems).toEqual([]);
  });
});

describe('anchors', () => {
  test('explicit ids and GitHub heading slugs, duplicates numbered', () => {
    const anchors = anchorsOf(
      '<a id="epochs"></a>\n## 8.14 Epochs & resume\n## Setup\n## Setup\n```\n# not a heading\n```',
    );
    expect([...anchors].sort()).toEqual(['814-epochs--resume', 'epochs', 'setup', 'setup-1']);
    expect(headingSlug('The `since` rule (v2)')).toBe('the-since-rule-v2');
  });
});

describe('brokenLinks and brokenCitations', () => {
  const root = tempDir('doc-links').path;
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'design.md'), '# Design\n<a id="epochs"></a>\n## Epochs\n');
  writeFileSync(join(root, 'README.md'), 'x');

  test('a missing file, a missing anchor and a link out of the repository are each reported', () => {
    const problems = brokenLinks(root, [
      {
        rel: 'docs/guide.md',
        text: [
          '[ok](design.md#epochs) [ok](../README.md) [web](https://x.test/a.md) `[code](nope.md)`',
          '[gone](missing.md)',
          '[anchor](design.md#nope) [self](#nowhere)',
          `[out](../../${'x'}.md)`,
        ].join('\n'),
      },
    ]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toStartWith('docs/guide.md:2: "missing.md" does not exist');
    expect(problems[1]).toStartWith(
      'docs/guide.md:3: "design.md#nope": docs/design.md has no anchor',
    );
    expect(problems[2]).toStartWith('docs/guide.md:3: "#nowhere"');
    expect(problems[3]).toStartWith('docs/guide.md:4:');
    expect(problems[3]).toContain('leaves the repository');
  });

  test('citations in code are checked anchor by anchor, continuations included', () => {
    const docs = (rest: string) => ['docs', rest].join('/'); // not a citation of this file
    const problems = brokenCitations(root, [
      { rel: 'src/a.ts', text: `// ${docs('design.md#epochs, #gone')}\n// ${docs('other.md#x')}` },
    ]);
    expect(problems).toEqual([
      `src/a.ts:1: "${docs('design.md#gone')}": docs/design.md has no anchor "gone"`,
      `src/a.ts:2: "${docs('other.md#x')}" does not exist (looked for docs/other.md)`,
    ]);
  });
});
