import { iso, isoOrNull } from '../../common/iso';
import { WebhookEndpointRow } from './webhook-endpoints.repository';
import { WebhookEndpointView } from './webhook-endpoints.schemas';

/** Never the secrets: they leave only in the create and rotate answers, which add them. */
export function toWebhookEndpointView(row: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    ownerId: row.ownerId,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    scope: row.scope,
    disabledReason: row.disabledReason,
    disabledAt: isoOrNull(row.disabledAt),
    previousSecretExpiresAt: isoOrNull(row.previousSecretExpiresAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
