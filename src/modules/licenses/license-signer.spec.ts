import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { ed25519PublicJwk } from './license-signer';

describe('ed25519PublicJwk', () => {
  it('gives the same x and kid (RFC 7638 thumbprint) as jose, so the published kid did not change when jose left the boot', async () => {
    for (let i = 0; i < 5; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const jwk = await exportJWK(publicKey);
      expect(ed25519PublicJwk(privateKey)).toEqual({ x: jwk.x, kid: await calculateJwkThumbprint(jwk) });
    }
  });
});
