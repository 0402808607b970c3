import { Inject, Injectable } from '@nestjs/common';
import { and, getTableName, isNotNull, lt } from 'drizzle-orm';
import { newId } from '../../common/ids';
import { Database, DB } from '../../db/database';
import { outboxMessages } from '../../db/schema';
import type { Executor } from '../../db/database';
import { OutboxEvent } from './outbox.events';

/** The outbox row as a fragment of a caller's own prepared statement; see `inlineAppend`. */
export interface InlineAppend {
  /** `INSERT INTO outbox_messages …` with parameters `$first` to `$first+3`. */
  text: string;
  /** Those four parameters, in order. */
  values(event: OutboxEvent, at: Date): unknown[];
}

@Injectable()
export class OutboxRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** The one way an event enters the outbox: in the caller's transaction, so it commits with the change it reports. */
  async append(tx: Executor, event: OutboxEvent): Promise<void> {
    await tx.insert(outboxMessages).values(event);
  }

  /**
   * The one exception to `append`, for the license-validation hot path: its timestamps and its
   * `license.validated` row go to the database as one prepared statement (one round trip, atomic
   * without a transaction), which `append` cannot join. The table and column names still come
   * from the schema here, so the outbox row has one definition.
   */
  inlineAppend(first: number): InlineAppend {
    const column = (name: keyof typeof outboxMessages.$inferSelect) => `"${outboxMessages[name].name}"`;
    const params = [0, 1, 2, 3].map((offset) => `$${first + offset}`).join(', ');
    return {
      text: `INSERT INTO "${getTableName(outboxMessages)}" (${[column('id'), column('type'), column('payload'), column('createdAt')].join(', ')}) VALUES (${params})`,
      values: (event, at) => [newId('obx'), event.type, JSON.stringify(event.payload), at],
    };
  }

  /** Removes messages delivered before the cutoff; undelivered ones stay, however old. */
  async purgeDeliveredBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(outboxMessages).where(and(isNotNull(outboxMessages.deliveredAt), lt(outboxMessages.deliveredAt, cutoff)));
    return result.rowCount ?? 0;
  }
}
