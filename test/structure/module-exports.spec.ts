import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const MODULES = 'src/modules';

/** Source files by repository path (posix, from the repository root). */
type Sources = Map<string, string>;

const parse = (path: string, text: string) => ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);

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

const decoratorNames = (node: ts.HasDecorators) =>
  (ts.getDecorators(node) ?? []).map(({ expression }) => (ts.isCallExpression(expression) ? expression.expression : expression).getText());

/** What `@Module({ exports: [...] })` lists in a module file, each with the file its identifier is imported from (its own file when declared there). */
function moduleExports(file: ts.SourceFile): { name: string; from: string }[] {
  const imported = new Map(importsOf(file).map(({ name, from }) => [name, from]));
  const listed: { name: string; from: string }[] = [];
  for (const statement of file.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    for (const decorator of ts.getDecorators(statement) ?? []) {
      if (!ts.isCallExpression(decorator.expression) || decorator.expression.expression.getText() !== 'Module') continue;
      const [options] = decorator.expression.arguments;
      if (!options || !ts.isObjectLiteralExpression(options)) throw new Error(`${file.fileName}: @Module() without an object literal`);
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
  return listed;
}

/** The `@Injectable()` classes a file declares: the services Nest injects. */
const injectablesOf = (file: ts.SourceFile) =>
  file.statements.filter(ts.isClassDeclaration).flatMap((node) => (node.name && decoratorNames(node).includes('Injectable') ? [node.name.text] : []));

const moduleOf = (path: string) => path.slice(MODULES.length + 1).split('/')[0]!;
const moduleFile = (module: string) => `${MODULES}/${module}/${module}.module.ts`;

/**
 * The `@Injectable()` classes that files under `src/modules/<a>/` import from another module's
 * `src/modules/<b>/<x>.service.ts` (`checked`), and those that `<b>.module.ts` does not list in its
 * exports (`missing`, as "importer: Name (from)"). Specs are left out: they build services by hand.
 */
function unexportedServices(sources: Sources): { checked: number; missing: string[] } {
  const parsed = new Map([...sources].map(([path, text]) => [path, parse(path, text)]));
  const missing: string[] = [];
  let checked = 0;
  for (const [path, file] of parsed) {
    if (!path.startsWith(`${MODULES}/`) || path.endsWith('.spec.ts')) continue;
    for (const { name, from } of importsOf(file)) {
      if (!from.startsWith(`${MODULES}/`) || !from.endsWith('.service.ts') || moduleOf(from) === moduleOf(path)) continue;
      const service = parsed.get(from);
      if (!service) throw new Error(`${path} imports ${from}, which does not exist`);
      if (!injectablesOf(service).includes(name)) continue;
      const owner = parsed.get(moduleFile(moduleOf(from)));
      if (!owner) throw new Error(`${from}: its module has no ${moduleFile(moduleOf(from))}`);
      checked++;
      if (!moduleExports(owner).some((listed) => listed.name === name && listed.from === from)) missing.push(`${path}: ${name} (${from})`);
    }
  }
  return { checked, missing };
}

function read(dir: string): Sources {
  const files = readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  return new Map(files.map((file) => [posix.join(dir, file.split('\\').join('/')), readFileSync(join(ROOT, dir, file), 'utf8')]));
}

/** Issue 23: one module reaches another only through its exported services; its repositories are its own. */
describe('module exports', () => {
  const SOURCES = read(MODULES);
  const MODULE_NAMES = readdirSync(join(ROOT, MODULES));
  const exportsByModule = new Map(MODULE_NAMES.map((module) => [module, moduleExports(parse(moduleFile(module), SOURCES.get(moduleFile(module))!))]));

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

  it('every service one module imports from another is in that module’s exports', () => {
    const { checked, missing } = unexportedServices(SOURCES);
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(30);
  });

  it('…and that check names an imported service its module does not export (a fixture)', () => {
    const fixture: Sources = new Map([
      [
        `${MODULES}/one/one.module.ts`,
        "import { Module } from '@nestjs/common';\nimport { OneService, SharedService } from './one.service';\n" +
          '@Module({ providers: [OneService, SharedService], exports: [SharedService] })\nexport class OneModule {}\n',
      ],
      [
        `${MODULES}/one/one.service.ts`,
        "import { Injectable } from '@nestjs/common';\n@Injectable()\nexport class OneService {}\n@Injectable()\nexport class SharedService {}\n" +
          'export interface OneRow { id: string }\nexport abstract class OnePort {}\n',
      ],
      [`${MODULES}/two/two.module.ts`, "import { Module } from '@nestjs/common';\n@Module({})\nexport class TwoModule {}\n"],
      [
        `${MODULES}/two/two.service.ts`,
        "import { Injectable } from '@nestjs/common';\nimport { OnePort, OneRow, OneService as Alias, SharedService } from '../one/one.service';\n" +
          '@Injectable()\nexport class TwoService {\n  constructor(private readonly one: Alias, private readonly shared: SharedService) {}\n}\n',
      ],
      [`${MODULES}/two/two.service.spec.ts`, "import { OneService } from '../one/one.service';\nexport const built = new OneService();\n"],
    ]);
    // Types and ports are not services; a spec builds by hand; only OneService is missing.
    expect(unexportedServices(fixture)).toEqual({ checked: 2, missing: [`${MODULES}/two/two.service.ts: OneService (${MODULES}/one/one.service.ts)`] });
  });
});
