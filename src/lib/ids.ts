import { TypeID, typeid } from 'typeid-js';
import { z } from 'zod';

/**
 * Every entity prefix in one place, so two tables can never share one and a reviewer sees them all.
 * IDs are TypeIDs: `<prefix>_<UUIDv7 in Crockford base32>`, sortable by creation time.
 */
export const ID_PREFIXES = {
  user: 'usr',
  account: 'acc',
  refreshToken: 'rtk',
  passwordResetToken: 'prt',
  apiKey: 'key',
  product: 'prd',
  order: 'ord',
  license: 'lic',
  activation: 'act',
  webhookEvent: 'evt',
  outboxMessage: 'obx',
  auditLogEntry: 'aud',
  orderItem: 'oit',
  plan: 'pln',
  subscription: 'sub',
  subscriptionChange: 'sbc',
  webhookEndpoint: 'whe',
  webhookDelivery: 'whd',
  webhookAttempt: 'wha',
  event: 'evt',
  recoveryCode: 'rcv',
  twoFactorChallenge: 'tfc',
  userIdentity: 'idn',
  outboundMail: 'eml',
} as const;

export type IdPrefix = (typeof ID_PREFIXES)[keyof typeof ID_PREFIXES];

export function newId(prefix: IdPrefix): string {
  return typeid(prefix).toString();
}

export function isId(value: string, prefix: IdPrefix): boolean {
  try {
    return TypeID.fromString(value).getType() === prefix;
  } catch {
    return false;
  }
}

// A TypeID's suffix: a UUID in 26 lower-case Crockford base32 characters, the first at most 7.
const SUFFIX = '[0-7][0-9a-hjkmnp-tv-z]{25}';

/** `^usr_…$`: the whole grammar of one entity's ids, so the OpenAPI `pattern` is the check itself. */
export const idPattern = (prefix: IdPrefix) => new RegExp(`^${prefix}_${SUFFIX}$`);

/**
 * A path or body field that must hold an id of one entity type. Ids live in `text` columns; the
 * length is the id's own, and a longer value stops at that check alone.
 */
export const idSchema = (prefix: IdPrefix) =>
  z
    .string()
    .max(prefix.length + 27, { abort: true })
    .regex(idPattern(prefix), `must be an id starting with ${prefix}_`)
    .meta({ example: `${prefix}_01jh8x2v3kf6qz9w0c4m5t7r8y` });
