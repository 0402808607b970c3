import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { paginate } from './paginate.js';
import type { RequestOptions, Transport } from './transport.js';
import type { QueryParams, RequestBody, ResponseBody } from './types.js';

/**
 * The claims of an offline license certificate (the `certificate` of a VALID validation). The spec
 * describes the certificate only as a compact JWS, so its claims are declared here, from
 * LicensesService.validate which signs them.
 */
export interface LicenseCertificate {
  /** The license id. */
  sub: string;
  product: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'REVOKED';
  licenseExpiresAt: string | null;
  fingerprint: string | null;
  validatedAt: string;
  ttl: number;
  iat: number;
  exp: number;
}

export interface VerifyCertificateOptions {
  /** Also require the certificate to be for this machine. */
  fingerprint?: string;
  /** The time to judge expiry at; now unless told. */
  currentDate?: Date;
}

/** The certificate did not verify: bad signature, unknown key, expired, or another machine's. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const seg = encodeURIComponent;

/** The JWKS is fetched again after this long, or when a certificate names a key it does not hold. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** A certificate naming an unknown key refetches at most this often, so garbage cannot flood the server. */
const JWKS_MIN_REFETCH_MS = 30_000;

export class LicensesApi {
  private jwks: { keySet: ReturnType<typeof createLocalJWKSet>; fetchedAt: number } | undefined;

  constructor(private readonly t: Transport) {}

  /** Public: is this key usable (on this machine, for this product)? VALID answers carry a certificate. */
  validate(body: RequestBody<'validateLicense'>, options?: RequestOptions): Promise<ResponseBody<'validateLicense'>> {
    return this.t.request({ operation: 'validateLicense', method: 'POST', path: '/v1/licenses/validate', body, anonymous: true, options });
  }
  /** Public: take a seat for a machine (or get the one it already has). */
  activate(body: RequestBody<'activateLicense'>, options?: RequestOptions): Promise<ResponseBody<'activateLicense'>> {
    return this.t.request({ operation: 'activateLicense', method: 'POST', path: '/v1/licenses/activate', body, anonymous: true, options });
  }
  /** Public: release a machine's seat. */
  deactivate(body: RequestBody<'deactivateLicense'>, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'deactivateLicense', method: 'POST', path: '/v1/licenses/deactivate', body, anonymous: true, options });
  }
  /** The public keys certificates are signed with. */
  getJwks(options?: RequestOptions): Promise<ResponseBody<'getLicenseJwks'>> {
    return this.t.request({ operation: 'getLicenseJwks', method: 'GET', path: '/v1/licenses/jwks', anonymous: true, options });
  }

  /**
   * Checks a certificate offline: its EdDSA signature against the app's JWKS (fetched once, kept
   * for 10 minutes), its type and its expiry. Returns the claims, or throws CertificateError.
   */
  async verifyCertificate(certificate: string, options: VerifyCertificateOptions = {}): Promise<LicenseCertificate> {
    const verify = async (keySet: ReturnType<typeof createLocalJWKSet>) =>
      (await jwtVerify(certificate, keySet, { algorithms: ['EdDSA'], typ: 'license+jwt', currentDate: options.currentDate }))
        .payload as unknown as LicenseCertificate;
    let claims: LicenseCertificate;
    try {
      claims = await verify(await this.keySet(false));
    } catch (error) {
      const stale = error instanceof joseErrors.JWKSNoMatchingKey && this.jwks && Date.now() - this.jwks.fetchedAt > JWKS_MIN_REFETCH_MS;
      if (!stale) throw asCertificateError(error);
      claims = await verify(await this.keySet(true)).catch((retryError: unknown) => Promise.reject(asCertificateError(retryError)));
    }
    if (options.fingerprint !== undefined && claims.fingerprint !== options.fingerprint) throw new CertificateError('The certificate is for another machine');
    return claims;
  }

  list(query: QueryParams<'listLicenses'> = {}, options?: RequestOptions): Promise<ResponseBody<'listLicenses'>> {
    return this.t.request({ operation: 'listLicenses', method: 'GET', path: '/v1/licenses', query, options });
  }
  listAll(options?: RequestOptions): AsyncGenerator<ResponseBody<'listLicenses'>['items'][number]> {
    return paginate((cursor) => this.list({ cursor }, options));
  }
  /** ADMIN: a license for a user and product; the answer holds the key, shown this once. */
  grant(body: RequestBody<'grantLicense'>, options?: RequestOptions): Promise<ResponseBody<'grantLicense'>> {
    return this.t.request({ operation: 'grantLicense', method: 'POST', path: '/v1/licenses', body, options });
  }
  get(id: string, options?: RequestOptions): Promise<ResponseBody<'getLicense'>> {
    return this.t.request({ operation: 'getLicense', method: 'GET', path: `/v1/licenses/${seg(id)}`, options });
  }
  update(id: string, body: RequestBody<'updateLicense'>, options?: RequestOptions): Promise<ResponseBody<'updateLicense'>> {
    return this.t.request({ operation: 'updateLicense', method: 'PATCH', path: `/v1/licenses/${seg(id)}`, body, options });
  }
  suspend(id: string, options?: RequestOptions): Promise<ResponseBody<'suspendLicense'>> {
    return this.t.request({ operation: 'suspendLicense', method: 'POST', path: `/v1/licenses/${seg(id)}/suspend`, options });
  }
  reinstate(id: string, options?: RequestOptions): Promise<ResponseBody<'reinstateLicense'>> {
    return this.t.request({ operation: 'reinstateLicense', method: 'POST', path: `/v1/licenses/${seg(id)}/reinstate`, options });
  }
  revoke(id: string, options?: RequestOptions): Promise<ResponseBody<'revokeLicense'>> {
    return this.t.request({ operation: 'revokeLicense', method: 'POST', path: `/v1/licenses/${seg(id)}/revoke`, options });
  }

  private async keySet(refresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (refresh || !this.jwks || Date.now() - this.jwks.fetchedAt > JWKS_MAX_AGE_MS) {
      const jwks = await this.getJwks();
      this.jwks = { keySet: createLocalJWKSet(jwks as JSONWebKeySet), fetchedAt: Date.now() };
    }
    return this.jwks.keySet;
  }
}

function asCertificateError(error: unknown): Error {
  // Transport failures while fetching the JWKS keep their own types.
  if (!(error instanceof joseErrors.JOSEError)) return error as Error;
  return new CertificateError(`The certificate does not verify: ${error.message}`, { cause: error });
}
