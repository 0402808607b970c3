import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { calculateJwkThumbprint, exportJWK, JWK, SignJWT } from 'jose';
import { AppConfig, InjectConfig } from '../../config/config';

/**
 * Signs offline license certificates (compact JWS, EdDSA over Ed25519) and publishes the public
 * key as a JWKS. The key is LICENSE_SIGNING_KEY, or outside production one generated once into
 * LICENSE_SIGNING_KEY_FILE.
 */
@Injectable()
export class LicenseSigner implements OnModuleInit {
  private privateKey!: KeyObject;
  private jwk!: JWK & { kid: string };
  private readonly logger = new Logger('LicenseSigner');

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  async onModuleInit() {
    this.privateKey = createPrivateKey(this.config.licenses.signingKeyPem ?? this.developmentKey());
    if (this.privateKey.asymmetricKeyType !== 'ed25519') throw new Error('LICENSE_SIGNING_KEY must be an Ed25519 key');
    const publicJwk = await exportJWK(createPublicKey(this.privateKey));
    this.jwk = { ...publicJwk, kid: await calculateJwkThumbprint(publicJwk), alg: 'EdDSA', use: 'sig' };
  }

  jwks() {
    return { keys: [{ kty: 'OKP', crv: 'Ed25519', x: this.jwk.x!, kid: this.jwk.kid, alg: 'EdDSA', use: 'sig' }] };
  }

  sign(claims: Record<string, unknown>, issuedAt: Date, ttlSeconds: number): Promise<string> {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.jwk.kid, typ: 'license+jwt' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .sign(this.privateKey);
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
