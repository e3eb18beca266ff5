/**
 * @module Documentation generated from the schema (docs/design.md#conventions): the key table of
 * docs/config.md and deploy/lifeline.example.toml. scripts/gen-config-docs.ts writes them; a test
 * checks the files on disk still equal what these functions return, so the docs cannot drift.
 */
import { expectedOf } from './coerce.ts';
import { configKeys, type KeySpec } from './keys.ts';

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function defaultCell(spec: KeySpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined) return '—';
  return `\`${JSON.stringify(spec.default)}\``;
}

function typeCell(spec: KeySpec): string {
  if (spec.type === 'enum') return (spec.values ?? []).map((value) => `\`${value}\``).join(' \\| ');
  const range = spec.min !== undefined && spec.max !== undefined ? ` ${spec.min}–${spec.max}` : '';
  return `${spec.type}${range}`;
}

function notesCell(spec: KeySpec): string {
  return [spec.secret ? 'secret' : '', spec.tunable ? 'tunable' : ''].filter(Boolean).join(', ');
}

const DOC_INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by scripts/gen-config-docs.ts. Do not edit by hand. -->

Sources, lowest to highest precedence: built-in defaults < TOML file < environment < command-line
flags < runtime overrides. The file is \`--config FILE\`, else \`$LIFELINE_CONFIG\`, else
\`./lifeline.toml\` when present. Every key has an environment variable: \`LIFELINE_\` followed by the
key with dots as underscores, upper-cased (\`breaker.cooldown_s\` → \`LIFELINE_BREAKER_COOLDOWN_S\`).
In the environment, lists are comma-separated or a JSON array, booleans are
\`true/false/1/0/yes/no/on/off\`, and an empty value counts as unset (for lists: the empty list).

Unknown keys and unknown \`LIFELINE_*\` variables are errors that name the nearest valid key.
**Secret** values are never printed: \`lifeline config show\`, logs and error messages redact them.
**Tunable** keys may be changed at run time with \`lifeline config set KEY VALUE\` (or the admin
API) and take effect without a restart; \`lifeline config unset KEY\` returns to the configured
value. Other keys are refused by \`config set\`: change them in the file, environment or flags and
restart. See \`deploy/lifeline.example.toml\` for a file with every key.

`;

/** After the key table: which `memory.zep.api_version` fits which Zep server. */
const ZEP_VERSION_ROWS = [
  [
    'Zep open source 0.x (up to 0.27)',
    '`v1`',
    '`/api/v1/user`, `/api/v1/sessions/…`',
    '`Bearer <JWT>`, only when set',
  ],
  [
    'Zep Community Edition 1.x, old Zep Cloud sessions API',
    '`v2`',
    '`/api/v2/users`, `/api/v2/sessions/…`',
    '`Api-Key <key>`',
  ],
  [
    'Zep Cloud today (SDK `@getzep/zep-cloud` 3.x)',
    '`v3`',
    '`/api/v2/users`, `/api/v2/threads/…`, `/api/v2/graph/search`',
    '`Api-Key <key>`',
  ],
  ["Zep's v4 API (`/api/v4`, users and threads by UUID)", '—', 'not supported yet', '—'],
];

function zepVersionsSection(): string {
  const table = alignedTable(
    ['your Zep server', 'pin', 'routes lifeline uses', 'auth'],
    ZEP_VERSION_ROWS,
  );
  return `
## Which Zep version do I pin?

\`memory.zep.api_version\` is pinned, never detected: every request is built from it, so a wrong pin
shows up once, in \`lifeline check\`, as a route-404 whose fix line names the version the server
speaks, and never as a run of requests under another version's routes.

${table}

v2 and v3 share the \`/api/v2\` prefix but no message routes: v3 is the threads API, where \`role\` is
the role and \`name\` the speaker. v3 adds at most 30 messages per call, sends content longer than
\`memory.zep.max_message_chars\` (2,500 on Zep Cloud's free plans, 14,000 on paid ones) as
consecutive parts that concatenate to the original, and slows outbox writes when
\`X-RateLimit-Remaining\` runs low. Its search reads the user's graph facts, across all of the
user's threads.
`;
}

/** A markdown table padded to aligned columns, the way Biome formats one. */
function alignedTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(3, title.length, ...rows.map((row) => row[i]!.length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((text, i) => text.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The whole of docs/config.md. */
export function renderConfigDocs(): string {
  const rows = configKeys().map((spec) => [
    `\`${spec.key}\``,
    typeCell(spec),
    cell(defaultCell(spec)),
    `\`${spec.env}\``,
    notesCell(spec),
    cell(spec.description),
  ]);
  const header = ['key', 'type', 'default', 'env', 'notes', 'description'];
  return `${DOC_INTRO}${alignedTable(header, rows)}\n${zepVersionsSection()}`;
}

function tomlValue(value: unknown): string {
  return JSON.stringify(value);
}

/** The lines of one key: its description and range as comments, then `key = default`. */
function exampleLines(spec: KeySpec): string[] {
  const name = spec.key.split('.').pop()!;
  const facts = [
    spec.secret ? 'secret' : '',
    spec.tunable ? 'tunable' : '',
    `${expectedOf(spec)}`,
    `env ${spec.env}`,
  ].filter(Boolean);
  const lines = [`# ${spec.description}`, `# ${facts.join('; ')}`];
  if (spec.defaultText !== undefined) {
    lines.push(`# default: ${spec.defaultText}`, `# ${name} = ${tomlValue(spec.default)}`);
  } else if (spec.default === undefined || spec.secret) {
    lines.push(`# ${name} = ""`);
  } else {
    lines.push(`${name} = ${tomlValue(spec.default)}`);
  }
  return lines;
}

/**
 * The whole of deploy/lifeline.example.toml: every key with its default and description. Keys
 * without a default, secrets, and defaults resolved at load time are commented out, so the file
 * loads with zero issues as it is.
 */
export function renderExampleToml(): string {
  const out = [
    '# lifeline example configuration: every key with its default and description.',
    '# Generated from src/config/schema.ts by scripts/gen-config-docs.ts; see docs/config.md.',
    '# Secrets are commented out: prefer the environment (LIFELINE_AUTH_JWT_SECRET, ...) for them.',
  ];
  let table = '';
  for (const spec of configKeys()) {
    const section = spec.key.split('.').slice(0, -1).join('.');
    if (section !== table) {
      out.push('', `[${section}]`);
      table = section;
    } else {
      out.push('');
    }
    out.push(...exampleLines(spec));
  }
  return `${out.join('\n')}\n`;
}
