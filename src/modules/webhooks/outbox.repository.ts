import { Inject, Injectable } from '@nestjs/common';
import { and, isNotNull, lt } from 'drizzle-orm';
import { Database, DB } from '../../db/database';
import { outboxMessages } from '../../db/schema';

@Injectable()
export class OutboxRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** Removes messages delivered before the cutoff; undelivered ones stay, however old. */
  async purgeDeliveredBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(outboxMessages).where(and(isNotNull(outboxMessages.deliveredAt), lt(outboxMessages.deliveredAt, cutoff)));
    return result.rowCount ?? 0;
  }
}
