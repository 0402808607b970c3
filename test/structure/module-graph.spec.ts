import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

type Violation = { rule: { name: string }; from: string; to: string };

/** Runs dependency-cruiser (ESM only, hence the dynamic import) with the repository's rules. */
async function cruise(baseDir: string) {
  const { cruise } = await import('dependency-cruiser');
  const { default: extractOptions } = await import('dependency-cruiser/config-utl/extract-depcruise-options');
  const { default: extractTsConfig } = await import('dependency-cruiser/config-utl/extract-ts-config');
  const options = await extractOptions(CONFIG);
  const result = await cruise(['src'], { ...options, baseDir, outputType: 'json' }, {}, { tsConfig: extractTsConfig(join(ROOT, 'tsconfig.json')) });
  // The json reporter hands back the serialized result.
  const { summary } = (typeof result.output === 'string' ? JSON.parse(result.output) : result.output) as ICruiseResult;
  return { summary, violations: summary.violations as unknown as Violation[] };
}

/** Issue 23: an honest module graph. The same rules run in `npm test` as `npm run lint:deps`. */
describe('module graph', () => {
  it('src/ breaks none of the rules in .dependency-cruiser.cjs, with no known violations set aside', async () => {
    const { summary } = await cruise(ROOT);
    expect(summary.totalCruised).toBeGreaterThan(300);
    expect(summary.error).toBe(0);
    expect(summary.violations).toEqual([]);
  });

  describe('each rule fires on a fixture that breaks it', () => {
    const fixture = mkdtempSync(join(tmpdir(), 'module-graph-'));
    afterAll(() => rmSync(fixture, { recursive: true, force: true }));
    const files: Record<string, string> = {
      'src/common/a/a.ts': "import { b } from '../b/b';\nexport const a = () => b;\n",
      'src/common/b/b.ts': "import { a } from '../a/a';\nexport const b = () => a;\n",
      'src/common/leak.ts': "import { secret } from '../modules/one/one.repository';\nexport const leak = secret;\n",
      'src/db/up.ts': "import { a } from '../common/a/a';\nexport const up = a;\n",
      'src/config/up.ts': "import { up } from '../db/up';\nexport const config = up;\n",
      'src/lib/up.ts': "import { config } from '../config/up';\nexport const lib = config;\n",
      'src/modules/one/one.repository.ts': 'export const secret = 1;\n',
      'src/modules/one/one.service.ts': "import { secret } from './one.repository';\nexport const open = secret;\n",
      'src/modules/two/two.service.ts':
        "import { secret } from '../one/one.repository';\nimport { open } from '../one/one.service';\nexport const two = secret + open;\n",
      'src/modules/two/wiring.ts': "import { app } from '../../app.module';\nexport const wiring = app;\n",
      'src/app.module.ts': 'export const app = 1;\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(fixture, path)), { recursive: true });
      writeFileSync(join(fixture, path), text);
    }
    let cruised: ReturnType<typeof cruise> | undefined;
    const fixtureViolations = async () => (await (cruised ??= cruise(fixture))).violations;

    it.each([
      ['no-circular', 'src/common/a/a.ts', 'src/common/b/b.ts'],
      ['common-knows-no-domain', 'src/common/leak.ts', 'src/modules/one/one.repository.ts'],
      ['db-below-common', 'src/db/up.ts', 'src/common/a/a.ts'],
      ['config-is-the-floor', 'src/config/up.ts', 'src/db/up.ts'],
      ['lib-is-the-floor', 'src/lib/up.ts', 'src/config/up.ts'],
      ['module-public-surface', 'src/modules/two/two.service.ts', 'src/modules/one/one.repository.ts'],
      ['nothing-imports-the-wiring', 'src/modules/two/wiring.ts', 'src/app.module.ts'],
    ])('%s: %s → %s', async (rule, from, to) => {
      const violations = await fixtureViolations();
      expect(violations).toContainEqual(expect.objectContaining({ rule: expect.objectContaining({ name: rule }), from, to }));
    });

    it('another module’s service is public: no violation for it', async () => {
      const violations = await fixtureViolations();
      expect(violations.filter((violation) => violation.to === 'src/modules/one/one.service.ts')).toEqual([]);
    });

    it('no-folder-cycles: two common/ folders that import each other', async () => {
      const violations = await fixtureViolations();
      expect(violations.some((violation) => violation.rule.name === 'no-folder-cycles' && violation.from === 'src/common/a')).toBe(true);
    });
  });
});

/** Issue 23: a domain module imports what it uses; @Global() hid auth ↔ users and licenses → webhooks. */
describe('no global domain modules', () => {
  it('no file under src/modules declares @Global()', () => {
    const modules = join(ROOT, 'src/modules');
    const sources = readdirSync(modules, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(100);
    const offenders = sources.filter((file) => /@Global\s*\(/.test(readFileSync(join(modules, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
