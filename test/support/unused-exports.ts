/**
 * @module Finds exports of src/ that nothing outside their own file uses, not counting the tests
 * (the architecture test's dead-code rule). It reads import and export declarations with the
 * TypeScript parser only (no type checker, so it stays fast): named, default and namespace
 * imports (`ns.name`; a namespace passed around whole uses every export), `export … from`
 * re-exports, dynamic `import()` and `import('…').Name` types. Type exports count like values; a
 * type that the declaration of a used export of its own file names (a parameter, return or member
 * type) is used with it, as part of that export's API.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript-api';

/** One export nobody outside its file uses, except perhaps tests. */
export interface UnusedExport {
  /** Path from the repository root, e.g. `src/lib/ids.ts`. */
  file: string;
  line: number;
  name: string;
  /** True when tests import it (they should test through the shipped API instead). */
  testsOnly: boolean;
}

/** Folders whose files count as users; `test/` is read too, to tell "tests only" from "nothing". */
const USER_FOLDERS = ['src', 'client', 'scripts', 'bench', 'test'];
const ALL = '*';

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listTs(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  return [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find(
    (path) => existsSync(path) && !path.endsWith('/'),
  );
}

/** The names a file exports itself (not re-exports), with their lines. */
interface Declared {
  name: string;
  line: number;
  /** Type names its declaration refers to (bodies of functions and methods left out). */
  mentions: Set<string>;
}

/** Type names `node` refers to, outside function bodies. */
function typeMentions(node: ts.Node | undefined): Set<string> {
  const names = new Set<string>();
  const visit = (child: ts.Node) => {
    if (ts.isBlock(child)) return;
    if (ts.isTypeReferenceNode(child)) {
      const name = ts.isIdentifier(child.typeName) ? child.typeName : child.typeName.left;
      if (ts.isIdentifier(name)) names.add(name.text);
    } else if (ts.isExpressionWithTypeArguments(child) && ts.isIdentifier(child.expression)) {
      names.add(child.expression.text);
    } else if (ts.isTypeQueryNode(child) && ts.isIdentifier(child.exprName)) {
      names.add(child.exprName.text);
    }
    ts.forEachChild(child, visit);
  };
  if (node) visit(node);
  return names;
}

function declaredExports(source: ts.SourceFile): Declared[] {
  const found: Declared[] = [];
  const lineOf = (node: ts.Node) =>
    source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (statement.moduleSpecifier || !statement.exportClause) continue;
      if (ts.isNamedExports(statement.exportClause))
        for (const element of statement.exportClause.elements)
          found.push({ name: element.name.text, line: lineOf(element), mentions: new Set() });
      continue;
    }
    if (ts.isExportAssignment(statement)) {
      found.push({ name: 'default', line: lineOf(statement), mentions: new Set() });
      continue;
    }
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
    if (!modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    const isDefault = modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name))
          found.push({
            name: declaration.name.text,
            line: lineOf(declaration),
            mentions: typeMentions(declaration.type),
          });
      continue;
    }
    const named = statement as ts.Statement & { name?: ts.Node };
    const name = isDefault
      ? 'default'
      : named.name && ts.isIdentifier(named.name)
        ? named.name.text
        : undefined;
    if (name) found.push({ name, line: lineOf(statement), mentions: typeMentions(statement) });
  }
  return found;
}

/** What `ns` is used for in `source`: the property names, or ALL when it escapes whole. */
function namespaceUses(source: ts.SourceFile, ns: string): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && node.text === ns && !ts.isNamespaceImport(node.parent)) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === node)
        names.push(parent.name.text);
      else if (ts.isQualifiedName(parent) && parent.left === node) names.push(parent.right.text);
      else names.push(ALL);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** The names a dynamic `import()` call takes: destructured ones, or ALL. */
function dynamicUses(call: ts.CallExpression): string[] {
  const awaited = ts.isAwaitExpression(call.parent) ? call.parent : call;
  const holder = awaited.parent;
  if (holder && ts.isVariableDeclaration(holder) && ts.isObjectBindingPattern(holder.name))
    return holder.name.elements.map((element) => {
      const key = element.propertyName ?? element.name;
      return ts.isIdentifier(key) ? key.text : ALL;
    });
  return [ALL];
}

/** Every (target file, name) pair `source` uses through imports and re-exports. */
function usesOf(path: string, source: ts.SourceFile): Array<{ target: string; name: string }> {
  const uses: Array<{ target: string; name: string }> = [];
  const add = (spec: string, names: string[]) => {
    const target = resolveSpec(path, spec);
    if (target) for (const name of names) uses.push({ target, name });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const names: string[] = [];
      if (clause?.name) names.push('default');
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings))
        for (const element of bindings.elements)
          names.push((element.propertyName ?? element.name).text);
      if (bindings && ts.isNamespaceImport(bindings))
        names.push(...namespaceUses(source, bindings.name.text));
      add(node.moduleSpecifier.text, names);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const spec = (node.moduleSpecifier as ts.StringLiteral).text;
      const clause = node.exportClause;
      if (clause && ts.isNamedExports(clause))
        add(
          spec,
          clause.elements.map((element) => (element.propertyName ?? element.name).text),
        );
      else add(spec, [ALL]);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, dynamicUses(node));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) {
        const qualifier = node.qualifier;
        const first = qualifier && (ts.isIdentifier(qualifier) ? qualifier : qualifier.left);
        add(literal.text, [first && ts.isIdentifier(first) ? first.text : ALL]);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

/** Every export of `root`/src that no file outside it uses, tests aside. */
export function unusedExports(root: string): UnusedExport[] {
  const paths = USER_FOLDERS.flatMap((folder) => listTs(join(root, folder)));
  const sources = new Map(
    paths.map((path) => [
      path,
      ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true),
    ]),
  );
  const shipped = new Set<string>();
  const tested = new Set<string>();
  for (const [path, source] of sources) {
    const isTest = relative(root, path).startsWith('test/');
    for (const { target, name } of usesOf(path, source)) {
      if (target === path) continue;
      (isTest ? tested : shipped).add(`${target}\0${name}`);
    }
  }
  const unused: UnusedExport[] = [];
  for (const [path, source] of sources) {
    const file = relative(root, path);
    if (!file.startsWith('src/')) continue;
    const key = (name: string) => `${path}\0${name}`;
    const declared = declaredExports(source);
    const used = new Set(
      declared
        .filter(({ name }) => shipped.has(key(name)) || shipped.has(key(ALL)))
        .map(({ name }) => name),
    );
    // A used export's API types are used with it; follow them until nothing new is reached.
    for (let grew = true; grew; ) {
      grew = false;
      for (const item of declared)
        if (used.has(item.name))
          for (const mention of item.mentions)
            if (!used.has(mention) && declared.some(({ name }) => name === mention)) {
              used.add(mention);
              grew = true;
            }
    }
    for (const { name, line } of declared) {
      if (used.has(name)) continue;
      unused.push({ file, line, name, testsOnly: tested.has(key(name)) || tested.has(key(ALL)) });
    }
  }
  return unused.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
