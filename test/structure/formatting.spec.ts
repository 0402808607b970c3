import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

describe('formatting (Prettier, configured once)', () => {
  it('npm test checks the format of the whole tree before anything else runs', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts['format:check']).toBe('prettier --check .');
    expect(scripts.format).toBe('prettier --write .');
    expect(scripts.test!.split(' && ')).toContain('npm run format:check');
  });

  it("an unformatted file fails the check under the repository's own configuration", async () => {
    const file = join(ROOT, 'src/example.ts');
    const options = { ...(await prettier.resolveConfig(file)), filepath: file };
    expect(options).toMatchObject({ singleQuote: true, printWidth: 160 });
    const unformatted = 'import {a} from "b";\n\n\n\nexport const c = {    d: a  }\n';
    expect(await prettier.check(unformatted, options)).toBe(false);
    expect(await prettier.check(await prettier.format(unformatted, options), options)).toBe(true);
  });
});
