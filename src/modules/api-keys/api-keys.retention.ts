import { Injectable, OnModuleInit } from '@nestjs/common';
import { daysBefore, Retention } from '../../common/background';
import { AppConfig, InjectConfig } from '../../config/config';
import { ApiKeyUsageRepository } from './api-key-usage.repository';

/** API keys' retention: audit rows older than AUDIT_LOG_RETENTION_DAYS. */
@Injectable()
export class ApiKeysRetention implements OnModuleInit {
  constructor(
    private readonly usage: ApiKeyUsageRepository,
    private readonly retention: Retention,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.retention.register({
      name: 'API key audit rows older than AUDIT_LOG_RETENTION_DAYS',
      purge: (now) => this.usage.purgeAuditOlderThan(daysBefore(now, this.config.apiKeys.auditLogRetentionDays)),
    });
  }
}
