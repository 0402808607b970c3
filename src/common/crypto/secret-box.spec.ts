import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config';
import { secretBoxKeys } from './crypto.module';
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

  it('after a rotation seals under the new key and opens values sealed under the previous one; without it they stay closed', () => {
    const [first, second] = [randomBytes(32), randomBytes(32)];
    const before = new SecretBox(first);
    const sealedBefore = before.seal('totp-secret');
    const rotated = new SecretBox(second, 'v2', [{ version: 'v1', key: first }]);
    expect(rotated.open(sealedBefore)).toBe('totp-secret');
    const sealedAfter = rotated.seal('whsec_new');
    expect(sealedAfter).toMatch(/^v2\./);
    expect(rotated.open(sealedAfter)).toBe('whsec_new');
    expect(() => before.open(sealedAfter)).toThrow(/Not a value sealed by this SecretBox/);
    expect(() => new SecretBox(second, 'v2').open(sealedBefore)).toThrow(/Not a value sealed by this SecretBox/);
    // A previous key listed under the wrong version cannot open what the right one sealed.
    expect(() => new SecretBox(second, 'v2', [{ version: 'v1', key: randomBytes(32) }]).open(sealedBefore)).toThrow(/failed authentication/);
    expect(() => new SecretBox(second, 'v1', [{ version: 'v1', key: first }])).toThrow(/Two SecretBox keys have version v1/);
  });

  const config = (env: Record<string, string>) => loadConfig({ JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes!', ...env });

  it('takes DATA_ENCRYPTION_KEY, or its deprecated name WEBHOOK_SECRET_KEY, as key v1', () => {
    const key = randomBytes(32);
    for (const name of ['DATA_ENCRYPTION_KEY', 'WEBHOOK_SECRET_KEY']) {
      expect(secretBoxKeys(config({ [name]: key.toString('base64') }))).toEqual({ current: { version: 'v1', key }, previous: [] });
    }
  });

  it('takes a versioned DATA_ENCRYPTION_KEY and the keys it replaced from DATA_ENCRYPTION_PREVIOUS_KEYS', () => {
    const [v1, v2, v3] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const keys = secretBoxKeys(
      config({ DATA_ENCRYPTION_KEY: `v3:${v3.toString('base64')}`, DATA_ENCRYPTION_PREVIOUS_KEYS: `v2:${v2.toString('base64')}, ${v1.toString('base64')}` }),
    );
    expect(keys).toEqual({
      current: { version: 'v3', key: v3 },
      previous: [
        { version: 'v2', key: v2 },
        { version: 'v1', key: v1 },
      ],
    });
    const sealedUnderV1 = new SecretBox(v1).seal('idempotent body');
    expect(new SecretBox(keys.current.key, keys.current.version, keys.previous).open(sealedUnderV1)).toBe('idempotent body');
  });

  it('generates a development key once into DATA_ENCRYPTION_KEY_FILE (or WEBHOOK_SECRET_KEY_FILE) and reuses it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-secret-box-')), 'nested', 'data-encryption-key');
    const first = secretBoxKeys(config({ DATA_ENCRYPTION_KEY_FILE: file })).current;
    expect(first.version).toBe('v1');
    expect(first.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toEqual(first.key);
    expect(secretBoxKeys(config({ DATA_ENCRYPTION_KEY_FILE: file })).current).toEqual(first);
    expect(secretBoxKeys(config({ WEBHOOK_SECRET_KEY_FILE: file })).current).toEqual(first);
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

describe('SecretBox.matches', () => {
  it('checks a MAC under the key its version names, so MACs made before a rotation keep matching', () => {
    const oldKey = randomBytes(32);
    const before = new SecretBox(oldKey, 'v1').mac('recovery-code', 'k7m2qx9p4t');
    const rotated = new SecretBox(randomBytes(32), 'v2', [{ version: 'v1', key: oldKey }]);
    expect(rotated.mac('recovery-code', 'k7m2qx9p4t')).toMatch(/^v2\./);
    expect(rotated.matches('recovery-code', 'k7m2qx9p4t', before)).toBe(true);
    expect(rotated.matches('recovery-code', 'k7m2qx9p4u', before)).toBe(false);
    expect(rotated.matches('another-purpose', 'k7m2qx9p4t', before)).toBe(false);
    expect(new SecretBox(randomBytes(32), 'v2').matches('recovery-code', 'k7m2qx9p4t', before)).toBe(false);
  });
});
