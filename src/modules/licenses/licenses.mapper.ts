import { iso, isoOrNull } from '../../common/iso';
import { ActivationRow, LicenseRow } from './licenses.repository';

/** The open validate answer: whoever holds the key learns nothing about the buyer or the order. */
export function toPublicLicenseView(row: LicenseRow, now: Date) {
  return {
    id: row.id,
    keyPrefix: row.keyPrefix,
    productId: row.productId,
    status: row.status,
    expired: Boolean(row.expiresAt && row.expiresAt <= now),
    maxActivations: row.maxActivations,
    expiresAt: isoOrNull(row.expiresAt),
    lastValidatedAt: isoOrNull(row.lastValidatedAt),
    createdAt: iso(row.createdAt),
  };
}

export function toLicenseView(row: LicenseRow, now: Date) {
  return { ...toPublicLicenseView(row, now), userId: row.userId, orderId: row.orderId };
}

/** The open activate answer: the first activator's IP is not for whoever holds the key next. */
export function toPublicActivationView(row: ActivationRow) {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    name: row.name,
    platform: row.platform,
    createdAt: iso(row.createdAt),
    lastValidatedAt: isoOrNull(row.lastValidatedAt),
  };
}

export function toActivationView(row: ActivationRow) {
  return { ...toPublicActivationView(row), ip: row.ip };
}
