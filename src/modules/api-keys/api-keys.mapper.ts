import { iso, isoOrNull } from '../../common/iso';
import { AuditRow } from './api-key-usage.repository';
import { ApiKeyRow } from './api-keys.repository';
import { ApiKeyAuditEntryView, ApiKeyView } from './api-keys.schemas';

export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    scope: row.scope,
    environment: row.environment,
    prefix: row.prefix,
    last4: row.last4,
    expiresAt: isoOrNull(row.expiresAt),
    revokedAt: isoOrNull(row.revokedAt),
    graceEndsAt: isoOrNull(row.graceEndsAt),
    replacedBy: row.replacedBy,
    parentKeyId: row.parentKeyId,
    createdAt: iso(row.createdAt),
  };
}

export function toAuditEntryView(row: AuditRow): ApiKeyAuditEntryView {
  return {
    id: row.id,
    at: iso(row.at),
    method: row.method,
    route: row.route,
    status: row.status,
    latencyMs: row.latencyMs,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
  };
}
