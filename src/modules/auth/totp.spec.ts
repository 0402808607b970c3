import * as OTPAuth from 'otpauth';
import { describe, expect, it } from 'vitest';
import { newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, provisioning, totpStepOf } from './totp';

const at = (secret: string, timestamp: number) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp });

describe('TOTP', () => {
  const secret = newTotpSecret();
  const now = new Date('2026-12-03T09:00:10Z');
  const step = Math.floor(now.getTime() / 30_000);

  it('names the step a code belongs to, one step either side of now, and nothing further', () => {
    expect(totpStepOf(secret, at(secret, now.getTime()), now)).toBe(step);
    expect(totpStepOf(secret, at(secret, now.getTime() - 30_000), now)).toBe(step - 1);
    expect(totpStepOf(secret, at(secret, now.getTime() + 30_000), now)).toBe(step + 1);
    expect(totpStepOf(secret, at(secret, now.getTime() + 60_000), now)).toBeUndefined();
    expect(totpStepOf(secret, at(newTotpSecret(), now.getTime()), now)).toBeUndefined();
  });

  it('provisions a 160-bit secret as an otpauth URL and an SVG QR code', async () => {
    expect(OTPAuth.Secret.fromBase32(secret).bytes).toHaveLength(20);
    const { otpauthUrl, qrSvg } = await provisioning(secret, 'Gatehouse', 'ada@example.com');
    const parsed = OTPAuth.URI.parse(otpauthUrl) as OTPAuth.TOTP;
    expect(parsed).toMatchObject({ issuer: 'Gatehouse', label: 'ada@example.com', digits: 6, period: 30, algorithm: 'SHA1' });
    expect(parsed.secret.base32).toBe(secret);
    expect(qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });

  it('makes distinct recovery codes of 10 Crockford base32 characters, compared without case or dash', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    expect(normalizeRecoveryCode(' K7M2Q-X9P4T ')).toBe('k7m2qx9p4t');
  });
});
