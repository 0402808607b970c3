import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const MODULES = 'src/modules';

const parse = (path: string, text = readFileSync(join(ROOT, path), 'utf8')) => ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);

/** A file's relative imports: each imported name (the exported name, not a local alias) and the repository path it comes from. */
function importsOf(file: ts.SourceFile): { name: string; from: string }[] {
  return file.statements.filter(ts.isImportDeclaration).flatMap((declaration) => {
    const specifier = (declaration.moduleSpecifier as ts.StringLiteral).text;
    if (!specifier.startsWith('.')) return [];
    const from = `${posix.join(posix.dirname(file.fileName), specifier)}.ts`;
    const clause = declaration.importClause;
    const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : [];
    return named.map((element) => ({ name: (element.propertyName ?? element.name).text, from }));
  });
}

/** What `@Module({ exports: [...] })` lists in a module file, each with the file its identifier is imported from (its own file when declared there). */
function moduleExports(file: ts.SourceFile): { name: string; from: string }[] {
  const imported = new Map(importsOf(file).map(({ name, from }) => [name, from]));
  const listed: { name: string; from: string }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isDecorator(node) && ts.isCallExpression(node.expression) && node.expression.expression.getText() === 'Module') {
      const [options] = node.expression.arguments;
      if (options && ts.isObjectLiteralExpression(options)) {
        for (const property of options.properties) {
          if (!ts.isPropertyAssignment(property) || property.name.getText() !== 'exports') continue;
          if (!ts.isArrayLiteralExpression(property.initializer)) throw new Error(`${file.fileName}: exports is not an array literal`);
          for (const element of property.initializer.elements) {
            if (!ts.isIdentifier(element)) throw new Error(`${file.fileName}: exports lists ${element.getText()}, not a class name`);
            listed.push({ name: element.text, from: imported.get(element.text) ?? file.fileName });
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return listed;
}

const MODULE_NAMES = readdirSync(join(ROOT, MODULES));
const moduleFile = (module: string) => `${MODULES}/${module}/${module}.module.ts`;

/** Issue 23: one module reaches another only through its exported services; its repositories are its own. */
describe('module exports', () => {
  const exportsByModule = new Map(MODULE_NAMES.map((module) => [module, moduleExports(parse(moduleFile(module)))]));

  it('the parser reads every module file’s exports', () => {
    expect(MODULE_NAMES.length).toBeGreaterThanOrEqual(15);
    expect(exportsByModule.get('users')).toEqual([{ name: 'UsersService', from: `${MODULES}/users/users.service.ts` }]);
    expect(exportsByModule.get('webhooks')).toEqual([{ name: 'EventSubscribers', from: `${MODULES}/outbox/outbox.service.ts` }]);
  });

  it('no module exports a repository', () => {
    const repositories = [...exportsByModule].flatMap(([module, listed]) =>
      listed.filter(({ name, from }) => /\.repository\.ts$/.test(from) || name.endsWith('Repository')).map(({ name }) => `${module}: ${name}`),
    );
    expect(repositories).toEqual([]);
  });
});
