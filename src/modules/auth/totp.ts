import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { lazyRequire } from '../../common/lazy-require';

/** Only enrolment draws a QR code. */
const qrcode = lazyRequire<typeof import('qrcode')>('qrcode');

/** RFC 6238 as every authenticator app reads it by default: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
/** One step either side of now is accepted, for clocks a little apart and codes typed slowly. */
const WINDOW = 1;

function totpOf(secretBase32: string, issuer = '', label = ''): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: OTPAuth.Secret.fromBase32(secretBase32) });
}

/** A fresh 160-bit secret (RFC 4226's recommended length), in base32 as authenticator apps take it. */
export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

/** The provisioning URL and the same URL as an SVG QR code, for the authenticator app to scan. */
export async function provisioning(secretBase32: string, issuer: string, account: string): Promise<{ otpauthUrl: string; qrSvg: string }> {
  const otpauthUrl = totpOf(secretBase32, issuer, account).toString();
  return { otpauthUrl, qrSvg: await qrcode().toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) };
}

/** The time step `code` belongs to (within the window around `now`), or undefined for a wrong code. */
export function totpStepOf(secretBase32: string, code: string, now: Date): number | undefined {
  const timestamp = now.getTime();
  const delta = totpOf(secretBase32).validate({ token: code, timestamp, window: WINDOW });
  if (delta === null) return undefined;
  return OTPAuth.TOTP.counter({ period: PERIOD_SECONDS, timestamp }) + delta;
}

/** Crockford's base32: no I, L, O or U to misread. 32 symbols, so 5 bits of a byte pick one without bias. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Recovery codes such as `k7m2q-x9p4t`: 50 random bits each. */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const chars = [...randomBytes(10)].map((byte) => RECOVERY_ALPHABET[byte & 31]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** How a recovery code is compared: case, spaces and the dash do not matter. */
export const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');
