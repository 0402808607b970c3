import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/config';

/**
 * Signs offline license certificates (compact JWS, EdDSA over Ed25519) and publishes the public
 * key as a JWKS. The key is LICENSE_SIGNING_KEY, or outside production one generated once into
 * LICENSE_SIGNING_KEY_FILE.
 */
@Injectable()
export class LicenseSigner implements OnModuleInit {
  private privateKey!: KeyObject;
  private jwk!: { x: string; kid: string };
  /** The encoded protected header, the same for every certificate. */
  private header!: string;
  private readonly logger = new Logger('LicenseSigner');

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  onModuleInit() {
    this.privateKey = createPrivateKey(this.config.licenses.signingKeyPem ?? this.developmentKey());
    if (this.privateKey.asymmetricKeyType !== 'ed25519') throw new Error('LICENSE_SIGNING_KEY must be an Ed25519 key');
    this.jwk = ed25519PublicJwk(this.privateKey);
    this.header = base64url({ alg: 'EdDSA', kid: this.jwk.kid, typ: 'license+jwt' });
  }

  jwks() {
    return { keys: [{ kty: 'OKP', crv: 'Ed25519', x: this.jwk.x, kid: this.jwk.kid, alg: 'EdDSA', use: 'sig' }] };
  }

  /**
   * A compact JWS (RFC 7515) signed with node:crypto directly: one Ed25519 signature over the
   * fixed header and the claims with `iat` and `exp` added. Any JOSE library verifies it (the
   * tests do, with jose's jwtVerify against this JWKS).
   */
  sign(claims: Record<string, unknown>, issuedAt: Date, ttlSeconds: number): string {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const input = `${this.header}.${base64url({ ...claims, iat, exp: iat + ttlSeconds })}`;
    return `${input}.${sign(null, Buffer.from(input), this.privateKey).toString('base64url')}`;
  }

  private developmentKey(): string {
    const file = resolve(this.config.licenses.signingKeyFile);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      mkdirSync(dirname(file), { recursive: true });
      const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      try {
        writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
        this.logger.log(`Generated a development license signing key in ${file}`);
        return pem;
      } catch {
        // Another process created it first: use theirs.
        return readFileSync(file, 'utf8');
      }
    }
  }
}

/**
 * The public half as a JWK's `x`, and its RFC 7638 thumbprint as the `kid`: the required members
 * of an OKP key in lexicographic order, SHA-256, base64url. node:crypto does it without loading a
 * JOSE library at boot.
 */
export function ed25519PublicJwk(key: KeyObject): { x: string; kid: string } {
  const { x } = createPublicKey(key).export({ format: 'jwk' });
  if (!x) throw new Error('Not an Ed25519 key');
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x }))
    .digest('base64url');
  return { x, kid };
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
