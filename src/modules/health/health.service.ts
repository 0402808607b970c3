import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { HealthRepository } from './health.repository';

@Injectable()
export class HealthService {
  constructor(private readonly repository: HealthRepository) {}

  live() {
    return { status: 'ok' as const };
  }

  async ready() {
    try {
      await this.repository.ping();
    } catch (error) {
      throw new DomainError('SERVICE_UNAVAILABLE', { cause: error, headers: { 'retry-after': '5' } });
    }
    return { status: 'ok' as const, database: 'up' as const };
  }
}
