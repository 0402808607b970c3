import type { RequestOptions, Transport } from './transport.js';
import type { RequestBody, ResponseBody } from './types.js';

/**
 * Register, log in, refresh, log out. `login()` keeps the tokens: later calls send the access
 * token, and a call answered ACCESS_TOKEN_EXPIRED refreshes once (refresh token in the body, so
 * no cookies are needed) and is sent again.
 */
export class AuthApi {
  constructor(private readonly t: Transport) {
    t.refresher = async (refreshToken) => void (await this.refresh(refreshToken));
  }

  register(body: RequestBody<'register'>, options?: RequestOptions): Promise<ResponseBody<'register'>> {
    return this.t.request({ operation: 'register', method: 'POST', path: '/v1/auth/register', body, anonymous: true, options });
  }

  /**
   * Logs in. A user with two-factor login on gets `requiredAuthenticatorType` and a `challenge`
   * instead of tokens: finish with `verifyTwoFactor({ challenge: answer.challenge.token, code })`.
   */
  async login(body: RequestBody<'login'>, options?: RequestOptions): Promise<ResponseBody<'login'>> {
    const answer = await this.t.request<ResponseBody<'login'>>({ operation: 'login', method: 'POST', path: '/v1/auth/login', body, anonymous: true, options });
    this.keep(answer);
    return answer;
  }

  /** The second step of a two-factor login: a code from the authenticator app, or a recovery code. Keeps the tokens. */
  async verifyTwoFactor(body: RequestBody<'verifyTwoFactor'>, options?: RequestOptions): Promise<ResponseBody<'verifyTwoFactor'>> {
    const session = await this.t.request<ResponseBody<'verifyTwoFactor'>>({
      operation: 'verifyTwoFactor',
      method: 'POST',
      path: '/v1/auth/2fa/verify',
      body,
      anonymous: true,
      options,
    });
    this.keep(session);
    return session;
  }

  /** New tokens for the kept refresh token (or the one given); the old one stops working. */
  async refresh(refreshToken = this.t.refreshToken, options?: RequestOptions): Promise<ResponseBody<'refresh'>> {
    if (!refreshToken) throw new Error('No refresh token: log in first');
    const session = await this.t.request<ResponseBody<'refresh'>>({
      operation: 'refresh',
      method: 'POST',
      path: '/v1/auth/refresh',
      body: { refreshToken },
      anonymous: true,
      options,
    });
    this.keep(session);
    return session;
  }

  /** Ends this login on the server (its refresh-token family) and forgets the tokens. */
  async logout(options?: RequestOptions): Promise<void> {
    const refreshToken = this.t.refreshToken;
    await this.t.request({ operation: 'logout', method: 'POST', path: '/v1/auth/logout', body: refreshToken ? { refreshToken } : {}, options });
    this.t.setTokens({});
  }

  /**
   * The same login at the integration docs' path (POST /auth/login): same body, answer and tokens,
   * kept as `login()` keeps them; its errors come in the integration format.
   */
  async integrationLogin(body: RequestBody<'integrationLogin'>, options?: RequestOptions): Promise<ResponseBody<'integrationLogin'>> {
    const answer = await this.t.request<ResponseBody<'integrationLogin'>>({
      operation: 'integrationLogin',
      method: 'POST',
      path: '/auth/login',
      body,
      anonymous: true,
      options,
    });
    this.keep(answer);
    return answer;
  }

  /**
   * Starts enrolling an authenticator: a new secret, its otpauth URL and a QR code, not yet on.
   * Signed in, with the password; or, for an ADMIN that must enrol first, with the TOTP_SETUP challenge alone.
   */
  setupTotp(body: RequestBody<'setupTotp'>, options?: RequestOptions): Promise<ResponseBody<'setupTotp'>> {
    return this.t.request({ operation: 'setupTotp', method: 'POST', path: '/v1/auth/2fa/totp/setup', body, options });
  }

  /** Switches two-factor login on with a code from the new authenticator; answers the recovery codes, shown once. */
  confirmTotp(body: RequestBody<'confirmTotp'>, options?: RequestOptions): Promise<ResponseBody<'confirmTotp'>> {
    return this.t.request({ operation: 'confirmTotp', method: 'POST', path: '/v1/auth/2fa/totp/confirm', body, options });
  }

  /** Switches two-factor login off (the password and a code or recovery code); every other login ends. */
  disableTwoFactor(body: RequestBody<'disableTwoFactor'>, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'disableTwoFactor', method: 'POST', path: '/v1/auth/2fa/disable', body, options });
  }

  /**
   * Where to send a browser to sign in through an OIDC provider (GET /v1/auth/oidc/{provider}/authorize):
   * a navigation, not a call, as the answer is a redirect that sets a cookie. `redirect` must be on an
   * allowed origin; the provider then sends the browser back through Gatehouse to it.
   */
  oidcAuthorizeUrl(provider: string, redirect: string): string {
    return `${this.t.baseUrl}/v1/auth/oidc/${encodeURIComponent(provider)}/authorize?${new URLSearchParams({ redirect }).toString()}`;
  }

  /** Keeps the tokens of an answer that has them (a two-factor challenge has none yet). */
  private keep(answer: ResponseBody<'login'> | ResponseBody<'refresh'>): void {
    if (answer.accessToken && answer.refreshToken) this.t.setTokens({ accessToken: answer.accessToken.token, refreshToken: answer.refreshToken.token });
  }
}
