import { daysBefore, retentionPolicies } from '../../common/background';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { ApiKeyUsageRepository } from './api-key-usage.repository';

/** API keys' retention: audit rows older than AUDIT_LOG_RETENTION_DAYS. */
export const ApiKeysRetention = retentionPolicies([ApiKeyUsageRepository, APP_CONFIG], (usage: ApiKeyUsageRepository, config: AppConfig) => [
  {
    name: 'API key audit rows older than AUDIT_LOG_RETENTION_DAYS',
    purge: (now) => usage.purgeAuditOlderThan(daysBefore(now, config.apiKeys.auditLogRetentionDays)),
  },
]);
