import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { HealthRepository } from './health.repository';

@Injectable()
export class HealthService {
  constructor(private readonly repository: HealthRepository) {}

  live() {
    return { status: 'ok' as const };
  }

  /** Ready when the database answers and, when REDIS_URL is set, Redis too: without it every rate-limited route answers 503. */
  async ready() {
    try {
      await Promise.all([this.repository.ping(), this.repository.pingRedis()]);
    } catch (error) {
      throw new DomainError('SERVICE_UNAVAILABLE', { cause: error, params: { retryAfter: 5 } });
    }
    return { status: 'ok' as const, database: 'up' as const, ...(this.repository.hasRedis && { redis: 'up' as const }) };
  }
}
