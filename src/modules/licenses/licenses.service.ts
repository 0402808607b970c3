import { Injectable } from '@nestjs/common';
import { EVERY_OWNER, ownerScope, Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { sha256 } from '../../common/crypto/secret-token';
import { pgErrorCode } from '../../common/errors/classify-error';
import { DomainError } from '../../common/errors/domain-error';
import { fieldIssue, invalidField, invalidFields } from '../../common/errors/field-issues';
import { GeoLocation, GeoLocator } from '../../common/geo/geo-locator';
import { I18nService } from '../../common/i18n/i18n.service';
import { Language } from '../../common/i18n/language';
import { iso, isoOrNull } from '../../common/iso';
import { toPage } from '../../common/pagination';
import { AppConfig, InjectConfig } from '../../config/config';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import type { OutboxEvent } from '../outbox/outbox.events';
import { EventSubscribers, OutboxService } from '../outbox/outbox.service';
import { ProductsService } from '../products/products.service';
import { LICENSE_KEY_PATTERN, newLicense, normalizeLicenseKey } from './license-key';
import { LicenseSigner } from './license-signer';
import { LicenseValidationRecorder } from './license-validation.recorder';
import { toActivationView, toLicenseView, toPublicActivationView, toPublicLicenseView } from './licenses.mapper';
import { LicenseRow, LicensesRepository } from './licenses.repository';
import { LicenseActivateDto, LicenseGrantDto, LicenseUpdateDto, LicenseValidateDto, ValidationCode } from './licenses.schemas';

@Injectable()
export class LicensesService {
  constructor(
    private readonly licenses: LicensesRepository,
    private readonly outbox: OutboxService,
    private readonly transactions: TransactionRunner,
    private readonly products: ProductsService,
    private readonly signer: LicenseSigner,
    private readonly i18n: I18nService,
    private readonly clock: Clock,
    private readonly geo: GeoLocator,
    private readonly validations: LicenseValidationRecorder,
    private readonly subscribers: EventSubscribers,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Every well-formed request gets an answer with a code; only VALID carries a certificate. `ip` is
   * the caller's (request.ip, resolved under TRUST_PROXY), read only when the product has a geoScope.
   */
  async validate(dto: LicenseValidateDto, lang: Language, ip: string) {
    const now = this.clock.now();
    const key = normalizeLicenseKey(dto.key);
    const row = LICENSE_KEY_PATTERN.test(key) ? await this.licenses.findForValidation(sha256(key), dto.fingerprint) : undefined;
    const answer = (code: ValidationCode, license: LicenseRow | null, extra: { detail?: string; certificate?: string } = {}) => ({
      valid: code === 'VALID',
      code,
      detail: extra.detail ?? this.i18n.translate(`licenses:${code}`, lang),
      license: license && toPublicLicenseView(license, now),
      ...(extra.certificate ? { certificate: extra.certificate } : {}),
    });
    if (!row) return answer('NOT_FOUND', null);
    const { license, activationCount, activationId, productGeoScope } = row;
    const invalidity = invalidityOf(license, now);
    if (invalidity) return answer(invalidity, license);
    // After the license's own state, which no change of place would fix, and before the machine and
    // product checks, which no machine or product can pass from outside the scope (and whose
    // answers would tell a caller there about the license's activations).
    const outside = await this.geo.refusal(ip, productGeoScope);
    if (outside) return answer('GEO_RESTRICTED', license, { detail: this.geoRestrictedDetail(outside.location, lang) });
    const mismatch = scopeMismatch(dto, license, activationCount, activationId);
    if (mismatch) return answer(mismatch, license);

    // Written in the next batch, not on this path; the event only when someone would receive it.
    const wanted = await this.subscribers.wants('license.validated', license.userId);
    this.validations.record({
      licenseId: license.id,
      activationId,
      at: now,
      event: wanted
        ? {
            type: 'license.validated',
            payload: {
              licenseId: license.id,
              productId: license.productId,
              userId: license.userId,
              fingerprint: dto.fingerprint ?? null,
              validatedAt: iso(now),
            },
          }
        : null,
    });
    // The certificate never outlives the license.
    const untilExpiry = license.expiresAt ? Math.floor((license.expiresAt.getTime() - now.getTime()) / 1000) : Infinity;
    const ttl = Math.max(1, Math.min(this.config.licenses.certificateTtlSeconds, untilExpiry));
    const certificate = this.signer.sign(
      {
        sub: license.id,
        product: license.productId,
        status: license.status,
        licenseExpiresAt: isoOrNull(license.expiresAt),
        fingerprint: dto.fingerprint ?? null,
        validatedAt: iso(now),
        ttl,
      },
      now,
      ttl,
    );
    return answer('VALID', { ...license, lastValidatedAt: now }, { certificate });
  }

  /** Names the country at most, never the caller's address. */
  private geoRestrictedDetail(location: GeoLocation | null, lang: Language): string {
    return location
      ? this.i18n.translate('licenses:GEO_RESTRICTED', lang, { country: location.country })
      : this.i18n.translate('licenses:GEO_RESTRICTED_UNKNOWN_LOCATION', lang);
  }

  /**
   * 201 with a new activation, 200 with the existing one for a known fingerprint. The license row
   * stays locked until commit, so concurrent activations are counted one at a time: with
   * maxActivations=3, exactly three of any number of parallel fingerprints get in.
   */
  async activate(dto: LicenseActivateDto, ip: string): Promise<{ created: boolean; activation: ReturnType<typeof toPublicActivationView> }> {
    const now = this.clock.now();
    const key = normalizeLicenseKey(dto.key);
    if (!LICENSE_KEY_PATTERN.test(key)) throw new DomainError('LICENSE_NOT_FOUND');
    const { created, activation } = await this.transactions.run(async (tx) => {
      const license = await this.licenses.lockByKeyHash(tx, sha256(key));
      if (!license) throw new DomainError('LICENSE_NOT_FOUND');
      const invalidity = invalidityOf(license, now);
      if (invalidity) throw new DomainError(invalidity);
      const existing = await this.licenses.findActivation(tx, license.id, dto.fingerprint);
      if (existing) return { created: false, activation: existing };
      if ((await this.licenses.countActivations(tx, license.id)) >= license.maxActivations) throw new DomainError('TOO_MANY_ACTIVATIONS');
      const added = await this.licenses.insertActivation(tx, {
        licenseId: license.id,
        fingerprint: dto.fingerprint,
        name: dto.name ?? null,
        platform: dto.platform ?? null,
        ip,
      });
      await this.outbox.append(tx, {
        type: 'license.activated',
        payload: { licenseId: license.id, productId: license.productId, userId: license.userId, activationId: added.id, fingerprint: added.fingerprint },
      });
      return { created: true, activation: added };
    });
    return { created, activation: toPublicActivationView(activation) };
  }

  /** Frees the machine's seat; `license.deactivated` only when there was one. */
  async deactivate(key: string, fingerprint: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const license = await this.licenses.lockByKeyHash(tx, sha256(normalizeLicenseKey(key)));
      if (!license || !(await this.licenses.removeActivation(tx, license.id, fingerprint))) return;
      await this.outbox.append(tx, {
        type: 'license.deactivated',
        payload: { licenseId: license.id, productId: license.productId, userId: license.userId, fingerprint },
      });
    });
  }

  /** ADMIN: a license by hand; the product's policy fills what the request leaves out. The key is shown once. */
  /** One license per unit of each line of a paid order; the keys (with their product's name) are returned once, for the buyer's mail. */
  async issueForOrder(
    tx: Transaction,
    order: { id: string; userId: string },
    lines: Array<{ product: { id: string; name: string; licenseDurationDays: number | null; maxActivations: number }; quantity: number }>,
    now: Date,
  ): Promise<{ licenseIds: string[]; keys: string[] }> {
    const keys: string[] = [];
    const rows = [];
    for (const { product, quantity } of lines) {
      for (let unit = 0; unit < quantity; unit++) {
        const license = newLicense(product, { userId: order.userId, orderId: order.id }, now);
        keys.push(`${product.name}: ${license.key}`);
        rows.push(license.row);
      }
    }
    return { licenseIds: await this.licenses.insertMany(tx, rows), keys };
  }

  /** Sets the status of an order's licenses (only those in `from`, when given), with the events of those that changed. */
  async setStatusOfOrder(
    tx: Transaction,
    orderId: string,
    status: LicenseRow['status'],
    why: Parameters<typeof licenseStatusEvents>[1],
    only: { from?: LicenseRow['status'] } = {},
  ): Promise<void> {
    await this.outbox.appendAll(tx, licenseStatusEvents(await this.licenses.setStatusOfOrder(tx, orderId, status, only), why));
  }

  async grant(dto: LicenseGrantDto) {
    const product = await this.products.findById(dto.productId);
    if (!product) throw invalidField('productId', 'INVALID_VALUE', { fallback: 'No such product' });
    const now = this.clock.now();
    const { key, row } = newLicense(product, { userId: dto.userId }, now, {
      ...(dto.expiresAt !== undefined ? { expiresAt: dto.expiresAt ? new Date(dto.expiresAt) : null } : {}),
      ...(dto.maxActivations !== undefined ? { maxActivations: dto.maxActivations } : {}),
    });
    const license = await this.licenses.insert(row).catch((error: unknown) => {
      throw foreignKeyToField(error);
    });
    return { ...toLicenseView(license, now), key };
  }

  async list(principal: Principal, cursor: string | undefined, limit: number) {
    const page = toPage(await this.licenses.list(ownerScope(principal), cursor, limit), limit);
    const now = this.clock.now();
    return { items: page.items.map((row) => toLicenseView(row, now)), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string) {
    const found = await this.licenses.findOwned(ownerScope(principal), id);
    if (!found) throw new DomainError('NOT_FOUND');
    return { ...toLicenseView(found.license, this.clock.now()), activations: found.activations.map(toActivationView) };
  }

  /** ADMIN: suspend, reinstate or revoke; a change to SUSPENDED or REVOKED is announced (`reason: ADMIN`). */
  async setStatus(id: string, status: LicenseRow['status']) {
    const changed = await this.transactions.run(async (tx) => {
      const row = await this.licenses.setStatus(tx, id, status);
      if (row) await this.outbox.appendAll(tx, licenseStatusEvents([row], 'ADMIN'));
      return row;
    });
    return changed ? toLicenseView(changed, this.clock.now()) : this.change(id, {});
  }

  async update(id: string, dto: LicenseUpdateDto) {
    return this.change(id, {
      ...(dto.expiresAt !== undefined ? { expiresAt: dto.expiresAt ? new Date(dto.expiresAt) : null } : {}),
      ...(dto.maxActivations !== undefined ? { maxActivations: dto.maxActivations } : {}),
    });
  }

  private async change(id: string, changes: Partial<Pick<LicenseRow, 'status' | 'expiresAt' | 'maxActivations'>>) {
    const row = Object.keys(changes).length > 0 ? await this.licenses.update(id, changes) : (await this.licenses.findOwned(EVERY_OWNER, id))?.license;
    if (!row) throw new DomainError('NOT_FOUND');
    return toLicenseView(row, this.clock.now());
  }

  jwks() {
    return this.signer.jwks();
  }
}

/** Why a license cannot be used at all, in the order the published codes are checked. */
function invalidityOf(license: LicenseRow, now: Date): 'REVOKED' | 'SUSPENDED' | 'EXPIRED' | undefined {
  if (license.status === 'REVOKED') return 'REVOKED';
  if (license.status === 'SUSPENDED') return 'SUSPENDED';
  if (license.expiresAt && license.expiresAt <= now) return 'EXPIRED';
  return undefined;
}

function scopeMismatch(dto: LicenseValidateDto, license: LicenseRow, activationCount: number, activationId: string | null): ValidationCode | undefined {
  if (dto.productId && dto.productId !== license.productId) return 'PRODUCT_SCOPE_MISMATCH';
  if (dto.fingerprint !== undefined) {
    if (activationCount === 0) return 'NO_ACTIVATION';
    if (!activationId) return 'FINGERPRINT_SCOPE_MISMATCH';
  }
  return undefined;
}

/** The only foreign key a grant's input can break is the user's (the product was loaded above). */
function foreignKeyToField(error: unknown) {
  if (pgErrorCode(error) === '23503') {
    return invalidFields([fieldIssue('userId', 'INVALID_VALUE', { fallback: 'No such user' })], error);
  }
  return error;
}

/**
 * The outbound events of licenses whose status just changed: `license.suspended` or
 * `license.revoked` with why; a reinstatement is not an event of its own.
 */
export function licenseStatusEvents(
  changed: Pick<LicenseRow, 'id' | 'productId' | 'userId' | 'status'>[],
  why: 'ADMIN' | 'DISPUTE' | 'REFUND' | 'DISPUTE_LOST',
): OutboxEvent[] {
  return changed.flatMap((license): OutboxEvent[] => {
    const ids = { licenseId: license.id, productId: license.productId, userId: license.userId };
    if (license.status === 'SUSPENDED' && (why === 'ADMIN' || why === 'DISPUTE')) return [{ type: 'license.suspended', payload: { ...ids, reason: why } }];
    if (license.status === 'REVOKED' && why !== 'DISPUTE') return [{ type: 'license.revoked', payload: { ...ids, reason: why } }];
    return [];
  });
}
