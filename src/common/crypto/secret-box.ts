import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key the box opens values with, by the version those values carry. */
export interface SecretBoxKey {
  version: string;
  key: Buffer;
}

/**
 * Encrypts secrets that must be read back (webhook signing secrets, TOTP secrets, stored
 * idempotent responses, OIDC state), unlike credentials, which are only ever hashed. AES-256-GCM
 * with a random 96-bit IV per value; the auth tag makes any change to the stored value fail to open.
 *
 * Sealed form: `<version>.<iv>.<ciphertext>.<tag>` (base64url parts). The version names the key:
 * after a rotation the box seals under the new key and still opens values sealed under the
 * previous ones it is given.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly macKeys = new Map<string, Buffer>();

  constructor(
    key: Buffer,
    private readonly version = 'v1',
    previous: readonly SecretBoxKey[] = [],
  ) {
    for (const entry of [{ version, key }, ...previous]) {
      if (entry.key.length !== 32) throw new Error('A SecretBox key must be 32 bytes');
      if (!/^v\d+$/.test(entry.version)) throw new Error('A SecretBox key version reads v<number>');
      if (this.keys.has(entry.version)) throw new Error(`Two SecretBox keys have version ${entry.version}`);
      this.keys.set(entry.version, Buffer.from(entry.key));
    }
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.version)!, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.version, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /** The plaintext; throws when the value was sealed under a key the box does not hold, or changed since. */
  open(sealed: string): string {
    const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
    const key = version === undefined ? undefined : this.keys.get(version);
    if (key === undefined || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
      throw new Error('Not a value sealed by this SecretBox');
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('Not a value sealed by this SecretBox');
    const decipher = createDecipheriv(ALGORITHM, key, ivBytes, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM's "unable to authenticate data": the key is another, or a part was changed.
      throw new Error('A sealed value failed authentication');
    }
  }

  /**
   * HMAC-SHA256 of `value` under a key derived from a box key (HKDF-SHA256, `purpose` as its info),
   * as `<version>.<hex>`: for short secrets that are matched, never read back (recovery codes).
   * Unlike a plain hash, a copy of the table alone cannot be searched for them, and each purpose
   * has its own key. New values use the current key; `matches` checks a stored one under the key
   * its version names, so values made before a rotation keep matching while that key is held.
   */
  mac(purpose: string, value: string, version = this.version): string {
    const cacheKey = `${version}\0${purpose}`;
    let key = this.macKeys.get(cacheKey);
    if (!key) {
      const boxKey = this.keys.get(version);
      if (!boxKey) throw new Error(`No SecretBox key has version ${version}`);
      key = Buffer.from(hkdfSync('sha256', boxKey, Buffer.alloc(0), `gatehouse mac\0${purpose}`, 32));
      this.macKeys.set(cacheKey, key);
    }
    return `${version}.${createHmac('sha256', key).update(value, 'utf8').digest('hex')}`;
  }

  /** Whether `stored` (from `mac`) is the MAC of `value`, in constant time; false under a key the box does not hold. */
  matches(purpose: string, value: string, stored: string): boolean {
    const version = stored.slice(0, stored.indexOf('.'));
    if (!this.keys.has(version)) return false;
    const expected = Buffer.from(this.mac(purpose, value, version));
    const actual = Buffer.from(stored);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}
