import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

/** Every .ts file under src/, as a path relative to the repository, with its text (comments kept). */
function sources(dir = join(ROOT, 'src')): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [{ path: relative(ROOT, full), text: readFileSync(full, 'utf8') }] : [];
  });
}
const SOURCES = sources();
const importing = (module: string) => SOURCES.filter(({ text }) => text.includes(`from '${module}'`)).map(({ path }) => path);

/** Issue 23, Done means 2 and 4: what lives in one place stays there. */
describe('one of each (issue 23)', () => {
  it('all Stripe code is in src/modules/billing: the stripe package is imported nowhere else, and webhooks/ never names Stripe', () => {
    expect(importing('stripe').filter((path) => !path.startsWith('src/modules/billing/'))).toEqual([]);
    expect(importing('stripe').length).toBeGreaterThan(0);
    const webhooks = SOURCES.filter(({ path }) => path.startsWith('src/modules/webhooks/'));
    expect(webhooks.length).toBeGreaterThan(0);
    expect(webhooks.filter(({ text }) => /stripe/i.test(text)).map(({ path }) => path)).toEqual([]);
  });

  it('one cache: lru-cache is used only inside TtlCache', () => {
    expect(importing('lru-cache')).toEqual(['src/common/cache/ttl-cache.ts']);
  });

  it('one cache: no hand-rolled TTL map (a Map whose entries carry their own expiry, as the OIDC discovery cache once was)', () => {
    const handRolled = SOURCES.filter(({ text }) => /new Map<.*\b(expiresAt|expires|expiry)\b/.test(text)).map(({ path }) => path);
    expect(handRolled).toEqual([]);
    expect(SOURCES.filter(({ text }) => text.includes('new TtlCache(')).length).toBeGreaterThanOrEqual(6);
  });

  it('one batch writer: every recorder writes through BatchWriter', () => {
    const recorders = SOURCES.filter(({ path }) => path.endsWith('.recorder.ts'));
    expect(recorders.length).toBeGreaterThanOrEqual(2);
    for (const { path, text } of recorders) expect(text, path).toMatch(/new BatchWriter</);
  });

  it('one retention registry: policies are registered only through retentionPolicies, from <module>.retention.ts files', () => {
    const registering = SOURCES.filter(({ text }) => /\.register\(\s*policy\b|retention\.register\(/.test(text)).map(({ path }) => path);
    expect(registering).toEqual(['src/common/background.ts']);
    const declaring = SOURCES.filter(({ text }) => text.includes('retentionPolicies(') && !text.includes('export function retentionPolicies'));
    expect(declaring.length).toBeGreaterThanOrEqual(8);
    for (const { path } of declaring) expect(path).toMatch(/\.retention\.ts$/);
  });
});
