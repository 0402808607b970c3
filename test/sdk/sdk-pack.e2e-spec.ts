import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
const SDK = join(ROOT, 'packages/sdk');

/** Compiled with tsc against the installed tarball's declarations, with the DOM library for fetch's types (as a browser app has) and without Node's types. */
const PROGRAM = `
import { AuthenticationError, GatehouseClient, isGatehouseError, verifyWebhook, WebhookVerificationError, type Schema } from '@gatehouse/sdk';

declare const process: { argv: string[] };

async function main(baseUrl: string): Promise<void> {
  const client = new GatehouseClient({ baseUrl, retries: 1 });
  const validation: Schema<'LicenseValidation'> = await client.licenses.validate({ key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE', fingerprint: 'packed' });
  const jwks = await client.licenses.getJwks();
  const unauthenticated = await client.products.list().catch((error: unknown) => error);
  const forged = await verifyWebhook('{}', { 'webhook-id': 'evt_1', 'webhook-timestamp': '0' }, 'whsec_AAAA').catch((error: unknown) => error);
  console.log(JSON.stringify({
    validation: validation.code,
    keys: jwks.keys.length,
    unauthenticated: unauthenticated instanceof AuthenticationError && isGatehouseError(unauthenticated, 'UNAUTHORIZED'),
    forged: forged instanceof WebhookVerificationError,
  }));
}

void main(process.argv[2]!);
`;

const ESM_PROGRAM = `
import { GatehouseClient } from '@gatehouse/sdk';
const client: GatehouseClient = new GatehouseClient({ baseUrl: 'http://127.0.0.1:9' });
console.log(typeof client.products.listAll);
`;

/**
 * Each ```ts block of the packed README as a module: its imports on top, the rest in a function,
 * with the names the examples take as given declared.
 */
function readmeExamples(readme: string): string[] {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(([, code = '']) => {
    const lines = code.split('\n');
    const imports = lines.filter((line) => line.startsWith('import '));
    const body = lines.filter((line) => !line.startsWith('import '));
    return [
      "import type { GatehouseClient as ExampleClient } from '@gatehouse/sdk';",
      ...imports,
      'declare const client: ExampleClient;',
      'declare const key: string, machineId: string, rawBody: string;',
      'declare const request: { headers: Record<string, string> };',
      'declare const reply: { status(code: number): { send(): void } };',
      'declare const process: { env: Record<string, string | undefined> };',
      'declare function showSeatsFull(): void;',
      'export async function example() {',
      ...body,
      '}',
    ].join('\n');
  });
}

/** issue 14, done-means 4: what npm would publish, installed and used like a customer would. */
describe('@gatehouse/sdk as packed', () => {
  const ctx = useTestApp();
  let dir: string;
  let baseUrl: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-pack-'));
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await ctx.t.app.getUrl();
    // prepack builds (both tsc passes) first.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: SDK });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, packed!.filename);
    files = packed!.files.map((file) => file.path);
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds only the built files, README and package.json: ESM and CJS, each with declarations', () => {
    expect(files.filter((path) => !path.startsWith('dist/') && path !== 'package.json' && path !== 'README.md')).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts']));
    expect(files.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports nothing but its own files and jose (no node: module), so browsers and bundlers take it as is', () => {
    const imported = new Set<string>();
    for (const path of files.filter((file) => file.endsWith('.js'))) {
      const code = readFileSync(join(SDK, path), 'utf8');
      for (const [, name] of code.matchAll(/(?:\bfrom |\brequire\(|\bimport\()\s*['"]([^'"]+)['"]/g)) if (!name!.startsWith('.')) imported.add(name!);
    }
    expect([...imported]).toEqual(['jose']);
  });

  it('installed into an empty project, a program compiled with tsc against it works (CJS), ESM imports it too, and the README examples compile', async () => {
    const consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: consumer });
    writeFileSync(join(consumer, 'main.ts'), PROGRAM);
    writeFileSync(join(consumer, 'esm.mts'), ESM_PROGRAM);
    const examples = readmeExamples(readFileSync(join(consumer, 'node_modules/@gatehouse/sdk/README.md'), 'utf8'));
    expect(examples.length).toBeGreaterThanOrEqual(7);
    examples.forEach((example, i) => writeFileSync(join(consumer, `readme-${i}.ts`), example));
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], strict: true },
        files: ['main.ts', 'esm.mts', ...examples.map((_, i) => `readme-${i}.ts`)],
      }),
    );
    const compiled = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: consumer }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout, failed: true }),
    );
    expect(compiled, compiled.stdout).not.toHaveProperty('failed');

    const cjs = await run(process.execPath, ['main.js', baseUrl], { cwd: consumer });
    expect(JSON.parse(cjs.stdout)).toEqual({ validation: 'NOT_FOUND', keys: 1, unauthenticated: true, forged: true });
    const esm = await run(process.execPath, ['esm.mjs'], { cwd: consumer });
    expect(esm.stdout.trim()).toBe('function');
  }, 240_000);
});
