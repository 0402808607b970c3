import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config';
import { secretBoxKey } from './crypto.module';
import { SecretBox } from './secret-box';

const box = new SecretBox(randomBytes(32));

/** Flips one bit in part `index` (1 IV, 2 ciphertext, 3 tag) of a sealed value. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0]! ^= 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SecretBox', () => {
  it('opens what it sealed, and never shows the plaintext in the sealed form', () => {
    for (const plaintext of ['whsec_c2VjcmV0', '', 'ünïcødé ✓', 'x'.repeat(10_000)]) {
      const sealed = box.seal(plaintext);
      expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]*\.[\w-]+$/);
      if (plaintext) expect(sealed).not.toContain(plaintext);
      expect(box.open(sealed)).toBe(plaintext);
    }
  });

  it('uses a fresh IV each time: the same plaintext seals differently', () => {
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it.each([
    [1, 'IV'],
    [2, 'ciphertext'],
    [3, 'auth tag'],
  ])('refuses a value whose %s (%s) was changed', (index) => {
    expect(() => box.open(tamper(box.seal('whsec_secret'), index))).toThrow(/failed authentication/);
  });

  it('refuses a value sealed under another key', () => {
    const other = new SecretBox(randomBytes(32));
    expect(() => box.open(other.seal('whsec_secret'))).toThrow(/failed authentication/);
  });

  it('refuses malformed values and another key version', () => {
    const sealed = box.seal('whsec_secret');
    for (const bad of ['', 'v1', 'v1.a.b', `${sealed}.extra`, sealed.replace(/^v1/, 'v2'), tamper(sealed, 3).slice(0, -4)]) {
      expect(() => box.open(bad)).toThrow();
    }
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('takes WEBHOOK_SECRET_KEY, or generates a development key once and reuses it', () => {
    const key = randomBytes(32);
    const config = (env: Record<string, string>) => loadConfig({ JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes!', ...env });
    expect(secretBoxKey(config({ WEBHOOK_SECRET_KEY: key.toString('base64') }))).toEqual(key);

    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-secret-box-')), 'nested', 'webhook-secret-key');
    const first = secretBoxKey(config({ WEBHOOK_SECRET_KEY_FILE: file }));
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toEqual(first);
    expect(secretBoxKey(config({ WEBHOOK_SECRET_KEY_FILE: file }))).toEqual(first);
  });
});

describe('SecretBox.mac', () => {
  it('is stable, keyed per purpose and per box key, and is not the plain SHA-256', () => {
    const mac = box.mac('recovery-code', 'k7m2qx9p4t');
    expect(mac).toMatch(/^v1\.[0-9a-f]{64}$/);
    expect(box.mac('recovery-code', 'k7m2qx9p4t')).toBe(mac);
    expect(mac).not.toContain(createHash('sha256').update('k7m2qx9p4t').digest('hex'));
    expect(box.mac('another-purpose', 'k7m2qx9p4t')).not.toBe(mac);
    expect(new SecretBox(randomBytes(32)).mac('recovery-code', 'k7m2qx9p4t')).not.toBe(mac);
  });
});
