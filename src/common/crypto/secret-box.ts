import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts secrets that must be read back (webhook signing secrets; TOTP secrets and stored
 * idempotent responses next), unlike credentials, which are only ever hashed. AES-256-GCM with a
 * random 96-bit IV per value; the auth tag makes any change to the stored value fail to open.
 *
 * Sealed form: `<version>.<iv>.<ciphertext>.<tag>` (base64url parts). The version names the key,
 * so a later key rotation can open values sealed under the old key while sealing under the new.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly macKeys = new Map<string, Buffer>();

  constructor(
    key: Buffer,
    private readonly version = 'v1',
  ) {
    if (key.length !== 32) throw new Error('A SecretBox key must be 32 bytes');
    if (!/^v\d+$/.test(version)) throw new Error('A SecretBox key version reads v<number>');
    this.key = Buffer.from(key);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.version, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /** The plaintext; throws when the value was sealed under another key or changed since. */
  open(sealed: string): string {
    const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
    if (version !== this.version || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
      throw new Error('Not a value sealed by this SecretBox');
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('Not a value sealed by this SecretBox');
    const decipher = createDecipheriv(ALGORITHM, this.key, ivBytes, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM's "unable to authenticate data": the key is another, or a part was changed.
      throw new Error('A sealed value failed authentication');
    }
  }

  /**
   * HMAC-SHA256 of `value` under a key derived from this box's key (HKDF-SHA256, `purpose` as its
   * info), as `<version>.<hex>`: for short secrets that are matched, never read back (recovery
   * codes). Unlike a plain hash, a copy of the table alone cannot be searched for them, and each
   * purpose has its own key. The version names the box key, as in the sealed form.
   */
  mac(purpose: string, value: string): string {
    let key = this.macKeys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `gatehouse mac\0${purpose}`, 32));
      this.macKeys.set(purpose, key);
    }
    return `${this.version}.${createHmac('sha256', key).update(value, 'utf8').digest('hex')}`;
  }
}
