import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { asciiOnly } from '../../scripts/bundle/ascii-only';

/** scripts/bundle.ts writes the bundle through asciiOnly: escapes where they mean the same, a stop where they would not. */
describe('asciiOnly (the bundle, one byte per character)', () => {
  const run = (code: string) => runInThisContext(code) as unknown;

  it('escapes comments and regular expressions, and the code does what it did', () => {
    const code = `(() => { /* ±1 — ok */ // ≤ ≥\n const turkish = /[çğıöşü]/g; const astral = /😀/u; return ['a\\u011fa\\u00e7'.replace(turkish, '_'), astral.test('x\\ud83d\\ude00')]; })()`;
    const escaped = asciiOnly(code);
    expect(escaped).not.toMatch(/[\u0080-\uffff]/);
    expect(escaped).toContain('/[\\u00e7\\u011f\\u0131\\u00f6\\u015f\\u00fc]/g');
    expect(run(escaped)).toEqual(run(code));
    expect(run(escaped)).toEqual(['a_a_', true]);
  });

  it('leaves ASCII code as it is', () => {
    const code = 'const a = "x"; // plain';
    expect(asciiOnly(code)).toBe(code);
  });

  it("stops the build where an escape would change the meaning: a tagged template's raw text, an escaped character in a regular expression", () => {
    expect(() => asciiOnly('const raw = String.raw`é`;')).toThrow(/U\+00e9\) on line 1 is outside a comment or a regular expression/);
    expect(() => asciiOnly('const identity = /\\é/;')).toThrow(/U\+00e9/);
    expect(() => asciiOnly('\nconst s = "é";')).toThrow(/on line 2/);
  });
});
