/**
 * @module The repository stands alone: the checks behind the tidy rules in
 * test/architecture.test.ts. No tracked file may point outside the repository (a path of one
 * machine, a sibling folder, a document the repository does not carry), every relative link in
 * the Markdown documents must resolve to a file of the repository (and to an anchor in it, when
 * it names one), and every `docs/NAME.md#anchor` citation in code must name an anchor that exists.
 * Each problem is one line: `file:line: what is wrong`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** A text file of the repository, by path relative to the root. */
export interface RepoFile {
  readonly rel: string;
  readonly text: string;
}

/** Patterns that point outside the repository, each with what to do instead. */
const OUTSIDE: ReadonlyArray<{ pattern: RegExp; fix: string }> = [
  { pattern: /\.\.\/shared\b/, fix: 'a sibling folder users do not have' },
  {
    pattern: /(?<![\w.])\/(?:work|home|root|Users)\/[\w.-]/,
    fix: 'an absolute path of one machine',
  },
  { pattern: /[A-Za-z]:\\Users\\/, fix: 'an absolute path of one machine' },
  {
    pattern: new RegExp(['\\bSPEC(?:\\.md)?\\s*§', '\\bSPEC\\.md\\b'].join('|')),
    fix: 'cite docs/design.md#… instead',
  },
  {
    pattern: new RegExp(
      ['\\bCONTRACT(?:\\.md)?\\s*§', '\\bCONTRACT\\.md\\b', ['reference', 'zep/'].join('/')].join(
        '|',
      ),
    ),
    fix: 'cite docs/zep.md#… instead',
  },
  { pattern: /\bSTYLE(?:\.md)?\s*§/, fix: 'cite docs/design.md#engineering instead' },
  { pattern: /bun-daemon\.md|\bnotes\//, fix: 'cite docs/runtime.md#… instead' },
  {
    pattern: new RegExp(
      [['reliability', 'catalogue'].join('-'), "\\bcatalogue(?:'s)?\\s+(?:§|[ACMOPWZ]\\d)"].join(
        '|',
      ),
    ),
    fix: 'cite docs/faults.md#… instead',
  },
];

/**
 * Files exempt from the outside-reference rule, with the reason: applied migrations are frozen
 * (their text is hashed into every database that ran them).
 */
const FROZEN = [/^migrations(?:-pg)?\/\d{4}_[\w-]+\.sql$/];

/** Files that are not text, or that a tool generates with its own content. */
const SKIP = [
  /\.(?:png|jpe?g|gif|ico|woff2?)$/,
  /^package-lock\.json$/,
  /^test\/fixtures\/zep\/swagger\.json$/,
];

/** Every problem of the outside-reference rule, as `file:line: …`. */
export function outsideReferences(files: readonly RepoFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    if (FROZEN.some((re) => re.test(file.rel))) continue;
    file.text.split('\n').forEach((line, index) => {
      for (const { pattern, fix } of OUTSIDE) {
        const match = pattern.exec(line);
        if (match)
          problems.push(
            `${file.rel}:${index + 1}: "${match[0]}" points outside the repository (${fix})`,
          );
      }
    });
  }
  return problems;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown text defines: explicit `id="…"` attributes and heading slugs. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/\bid="([^"]+)"/g)) anchors.add(match[1] ?? '');
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = headingSlug(heading[1] ?? '');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Markdown links `[text](target)` outside code spans and fences, with their lines. */
function linksOf(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  let fenced = false;
  markdown.split('\n').forEach((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '``');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: match[1] ?? '', line: index + 1 });
    }
  });
  return found;
}

/** Resolves `target` (a path with an optional `#anchor`) from `fromRel`; null when it is fine. */
function checkTarget(
  root: string,
  fromRel: string,
  target: string,
  anchorsCache: Map<string, Set<string>>,
): string | null {
  const [pathPart = '', anchor] = target.split('#', 2);
  const abs =
    pathPart === '' ? join(root, fromRel) : resolve(root, dirname(fromRel), decodeURI(pathPart));
  const rel = relative(root, abs);
  if (rel.startsWith('..') || rel.startsWith(sep)) return `"${target}" leaves the repository`;
  if (!existsSync(abs)) return `"${target}" does not exist (looked for ${rel})`;
  if (anchor === undefined || anchor === '' || statSync(abs).isDirectory() || !abs.endsWith('.md'))
    return null;
  let anchors = anchorsCache.get(abs);
  if (!anchors) {
    anchors = anchorsOf(readFileSync(abs, 'utf8'));
    anchorsCache.set(abs, anchors);
  }
  return anchors.has(anchor) ? null : `"${target}": ${rel} has no anchor "${anchor}"`;
}

/** Every broken relative link in the given Markdown files, as `file:line: …`. */
export function brokenLinks(root: string, markdownFiles: readonly RepoFile[]): string[] {
  const problems: string[] = [];
  const cache = new Map<string, Set<string>>();
  for (const file of markdownFiles) {
    for (const { target, line } of linksOf(file.text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const problem = checkTarget(root, file.rel, target, cache);
      if (problem) problems.push(`${file.rel}:${line}: ${problem}`);
    }
  }
  return problems;
}

/**
 * Every `docs/NAME.md#anchor` citation (and its `, #more` continuations) whose document or anchor
 * does not exist, as `file:line: …`. Citations are resolved from the repository root.
 */
export function brokenCitations(root: string, files: readonly RepoFile[]): string[] {
  const problems: string[] = [];
  const cache = new Map<string, Set<string>>();
  const citation = /(?<![\w/.-])(docs\/[a-z0-9-]+\.md)((?:#[a-z0-9-]+)(?:,\s*#[a-z0-9-]+)*)/g;
  for (const file of files) {
    file.text.split('\n').forEach((line, index) => {
      for (const match of line.matchAll(citation)) {
        for (const anchor of (match[2] ?? '').split(/,\s*/)) {
          const problem = checkTarget(root, '', `${match[1]}${anchor}`, cache);
          if (problem) problems.push(`${file.rel}:${index + 1}: ${problem}`);
        }
      }
    });
  }
  return problems;
}

/** The repository's tracked text files (git's index; the folder walk when git is not there). */
export function trackedFiles(root: string): RepoFile[] {
  const git = Bun.spawnSync(['git', 'ls-files', '-z'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'ignore',
  });
  const rels =
    git.exitCode === 0
      ? new TextDecoder().decode(git.stdout).split('\0').filter(Boolean)
      : walk(root, root);
  return rels
    .filter((rel) => !SKIP.some((re) => re.test(rel)) && existsSync(join(root, rel)))
    .map((rel) => ({ rel, text: readFileSync(join(root, rel), 'utf8') }));
}

function walk(root: string, dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', '.git', 'dist', 'data', 'coverage', '.test-results'].includes(entry.name))
      return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(root, path) : [relative(root, path)];
  });
}
