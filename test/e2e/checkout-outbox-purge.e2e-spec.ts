import { describe, expect, it } from 'vitest';
import { BackgroundTasks, Retention } from '../../src/common/background';
import { useTestApp } from '../helpers/test-app';

describe('outbox retention', () => {
  const ctx = useTestApp({ env: { OUTBOX_RETENTION_DAYS: '7' } });

  it('the outbox no longer only grows: messages delivered more than OUTBOX_RETENTION_DAYS ago are purged, undelivered ones never', async () => {
    // The purge at boot has run on an empty table; wait for it so it cannot race the rows below.
    await ctx.t.app.get(BackgroundTasks).drain();
    const rows: Array<[string, string, string | null]> = [
      ['obx_delivered_8_days_ago', "now() - interval '30 days'", "now() - interval '8 days'"],
      ['obx_delivered_6_days_ago', "now() - interval '30 days'", "now() - interval '6 days'"],
      ['obx_undelivered_100_days', "now() - interval '100 days'", null],
      ['obx_undelivered_fresh', 'now()', null],
    ];
    for (const [id, createdAt, deliveredAt] of rows) {
      await ctx.db.query(
        `INSERT INTO outbox_messages (id, type, payload, created_at, delivered_at) VALUES ($1, 'license.validated', '{}', ${createdAt}, ${deliveredAt ?? 'NULL'})`,
        [id],
      );
    }

    await ctx.t.app.get(Retention).run('outbox messages delivered over OUTBOX_RETENTION_DAYS ago');

    const left = (await ctx.db.query("SELECT id FROM outbox_messages WHERE id LIKE 'obx\\_%' ORDER BY id")).rows.map((row) => row.id as string);
    expect(left).toEqual(['obx_delivered_6_days_ago', 'obx_undelivered_100_days', 'obx_undelivered_fresh']);
  });
});
