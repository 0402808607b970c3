import { NestFastifyApplication } from '@nestjs/platform-fastify';
import * as OTPAuth from 'otpauth';
import { TEST_PASSWORD } from './users';

const json = { 'content-type': 'application/json' };

/**
 * The code an authenticator app would show `steps` 30-second steps from now, computed by the
 * library, as a phone would. The app accepts one step either side of now, and each step once.
 */
export function totpCode(secret: string, steps = 0): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: Date.now() + steps * 30_000 });
}

/** A 6-digit code that is wrong now: none of the codes the window around now accepts. */
export function wrongCode(secret: string): string {
  const accepted = new Set([-1, 0, 1].map((steps) => totpCode(secret, steps)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!accepted.has(code)) return code;
  }
}

function expectStatus(response: { statusCode: number; body: string }, status: number): void {
  if (response.statusCode !== status) throw new Error(`Expected ${status}, got ${response.statusCode}: ${response.body}`);
}

/**
 * Switches 2FA on for the user signed in with `accessToken`, through the API: setup, then confirm
 * with the current code (its step is then spent; the next code to use is `totpCode(secret, 1)`).
 * Both steps give the password; `null` for a user without one (signed in through a provider just now).
 */
export async function enableTotp(
  app: NestFastifyApplication,
  accessToken: string,
  password: string | null = TEST_PASSWORD,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const headers = { ...json, authorization: `Bearer ${accessToken}` };
  const proof = password === null ? {} : { password };
  const setup = await app.inject({ method: 'POST', url: '/v1/auth/2fa/totp/setup', headers, payload: JSON.stringify(proof) });
  expectStatus(setup, 200);
  const { secret } = setup.json<{ secret: string }>();
  const confirm = await app.inject({
    method: 'POST',
    url: '/v1/auth/2fa/totp/confirm',
    headers,
    payload: JSON.stringify({ code: totpCode(secret), ...proof }),
  });
  expectStatus(confirm, 200);
  return { secret, recoveryCodes: confirm.json<{ recoveryCodes: string[] }>().recoveryCodes };
}

/** A password login of a user with 2FA on: the challenge token it answers instead of a session. */
export async function loginForChallenge(app: NestFastifyApplication, email: string, password: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: json, payload: JSON.stringify({ email, password }) });
  expectStatus(response, 200);
  return response.json<{ challenge: { token: string } }>().challenge.token;
}
