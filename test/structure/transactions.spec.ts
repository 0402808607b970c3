import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

function repositoryFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return repositoryFiles(path);
    return entry.name.endsWith('.repository.ts') ? [path] : [];
  });
}

const parse = (path: string, code: string) => ts.createSourceFile(path, code, ts.ScriptTarget.Latest, true);

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

/**
 * Where a file opens a transaction: drizzle's `.transaction(` (or `['transaction']`), the
 * TransactionRunner, or a raw BEGIN. Read from the syntax tree, so a comment about "the caller's
 * transaction" is not one.
 */
function transactionsOpened(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => found.push(`${source.fileName}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${what}`);
  walk(source, (node) => {
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'transaction' && ts.isCallExpression(node.parent) && node.parent.expression === node) {
      at(node, '.transaction(');
    }
    if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression) && node.argumentExpression.text === 'transaction') {
      at(node, "['transaction']");
    }
    if (ts.isIdentifier(node) && node.text === 'TransactionRunner') at(node, 'TransactionRunner');
    if (ts.isTaggedTemplateExpression(node) && /^\s*(?:begin|start\s+transaction)\b/i.test(node.template.getText(source).slice(1))) {
      at(node, 'BEGIN');
    }
  });
  return found;
}

/** A parameter that runs its statements in a caller's transaction (or on either the pool or one). */
const TRANSACTION_TYPE = /\b(?:Transaction|Executor)\b/;

/**
 * Every parameter of a method or function that is a transaction, and where it stands: it must be
 * the first, named `tx` (and a parameter named `tx` must be one).
 */
function misplacedTransactions(source: ts.SourceFile): { takingTx: number; misplaced: string[] } {
  let takingTx = 0;
  const misplaced: string[] = [];
  walk(source, (node) => {
    if (!ts.isMethodDeclaration(node) && !ts.isFunctionDeclaration(node) && !ts.isArrowFunction(node) && !ts.isFunctionExpression(node)) return;
    const declared = ts.isArrowFunction(node) ? undefined : node.name;
    const name = declared?.getText(source) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(callback)');
    let counted = false;
    node.parameters.forEach((parameter, index) => {
      // A callback's parameter without a type takes it from its context: nothing to judge here.
      if (!parameter.type) return;
      const isTx = TRANSACTION_TYPE.test(parameter.type.getText(source));
      const named = parameter.name.getText(source);
      if (!isTx && named !== 'tx') return;
      if (!counted) takingTx++;
      counted = true;
      if (index !== 0 || named !== 'tx' || !isTx || parameter.initializer || parameter.questionToken) {
        misplaced.push(`${source.fileName}#${name}(${parameter.getText(source)}) at position ${index + 1}`);
      }
    });
  });
  return { takingTx, misplaced };
}

const repositories = repositoryFiles('src').map((path) => parse(path, readFileSync(join(ROOT, path), 'utf8')));

describe('only services open transactions; repositories take `tx` first', () => {
  it('finds the repositories', () => {
    expect(repositories.length).toBeGreaterThan(20);
  });

  it('no *.repository.ts under src opens a transaction (.transaction(, TransactionRunner, BEGIN)', () => {
    expect(repositories.flatMap(transactionsOpened)).toEqual([]);
  });

  it('every repository method that runs in a transaction takes it first, as `tx: Transaction` or `tx: Executor`, never defaulted', () => {
    const results = repositories.map(misplacedTransactions);
    expect(results.reduce((sum, result) => sum + result.takingTx, 0)).toBeGreaterThan(40);
    expect(results.flatMap((result) => result.misplaced)).toEqual([]);
  });

  it('the checks above catch each way of breaking the rule', () => {
    const bad = parse(
      'bad.repository.ts',
      [
        'class BadRepository {',
        '  constructor(private readonly db: Database, private readonly transactions: TransactionRunner) {}',
        '  a() { return this.db.transaction(async (tx) => tx.select()); }',
        "  b() { return this.db['transaction']((tx) => tx.select()); }",
        '  c() { return this.db.execute(sql`BEGIN`); }',
        '  find(id: string, tx: Executor = this.db) {}',
        '  lock(tx?: Transaction) {}',
        '  take(executor: Transaction, id: string) {}',
        '  update(tx: Database, id: string) {}',
        '}',
        "// Inside the caller's transaction; this.db.transaction( in prose is not code.",
      ].join('\n'),
    );
    expect(transactionsOpened(bad).map((found) => found.replace(/^\S+ /, ''))).toEqual(['TransactionRunner', '.transaction(', "['transaction']", 'BEGIN']);
    expect(misplacedTransactions(bad).misplaced.map((found) => found.replace(/^[^#]+#/, ''))).toEqual([
      'find(tx: Executor = this.db) at position 2',
      'lock(tx?: Transaction) at position 1',
      'take(executor: Transaction) at position 1',
      'update(tx: Database) at position 1',
    ]);
  });
});
