import { describe, expect, it } from 'vitest';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

const ROUNDS = 20;
const RACERS = 20;

/**
 * Issue 20 (scenario 5): deactivation racing activation. With maxActivations = 1, machine A is
 * deactivated while B and C race for the seat; the license row lock orders them, so the seat is
 * never given twice and every activation row has exactly its events.
 */
describe('deactivation racing activation', () => {
  const ctx = useTestApp();
  let ip = 0;
  const post = (url: string, payload: unknown) =>
    ctx.t.app.inject({
      method: 'POST',
      url,
      payload: JSON.stringify(payload),
      remoteAddress: `192.0.2.${(ip++ % 200) + 1}`,
      headers: { 'content-type': 'application/json' },
    });

  it(`issue 20 (scenario 5): ${ROUNDS} rounds of deactivating A while ${RACERS} activations of B and C race: never more than one activation row, and the outbox events match the rows`, async () => {
    const owner = await insertUser(ctx.db);
    const product = await insertProduct(ctx.db, { maxActivations: 1 });
    const outcomes = { seatTaken: 0, seatLeftFree: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const license = await insertLicense(ctx.db, { userId: owner.id, productId: product.id, maxActivations: 1 });
      expect((await post('/v1/licenses/activate', { key: license.key, fingerprint: 'machine-a' })).statusCode).toBe(201);

      const racers = Array.from(
        { length: RACERS },
        (_, i) => () => post('/v1/licenses/activate', { key: license.key, fingerprint: i % 2 ? 'machine-b' : 'machine-c' }),
      );
      // The deactivation starts among the racers, not before them all.
      const deactivation = () => post('/v1/licenses/deactivate', { key: license.key, fingerprint: 'machine-a' });
      const calls = [...racers.slice(0, RACERS / 2), deactivation, ...racers.slice(RACERS / 2)];
      const answers = await Promise.all(calls.map((call) => call()));
      const activations = answers.filter((_, i) => i !== RACERS / 2);
      expect(answers[RACERS / 2]!.statusCode).toBe(204);
      for (const answer of activations) {
        expect([200, 201, 422], answer.body).toContain(answer.statusCode);
        if (answer.statusCode === 422) expect(answer.json()).toMatchObject({ code: 'TOO_MANY_ACTIVATIONS' });
      }

      const rows = (await ctx.db.query<{ id: string; fingerprint: string }>('SELECT id, fingerprint FROM activations WHERE license_id = $1', [license.id]))
        .rows;
      expect(rows.length, `round ${round}`).toBeLessThanOrEqual(1);
      const events = (
        await ctx.db.query<{ type: string; activation_id: string | null; fingerprint: string }>(
          `SELECT type, payload->>'activationId' AS activation_id, payload->>'fingerprint' AS fingerprint
             FROM outbox_messages WHERE payload->>'licenseId' = $1 AND type IN ('license.activated', 'license.deactivated') ORDER BY created_at, id`,
          [license.id],
        )
      ).rows;
      const activated = events.filter((event) => event.type === 'license.activated');
      const deactivated = events.filter((event) => event.type === 'license.deactivated');
      // A once each way; then the seat's holder, if any, has one activation event and no other.
      expect(deactivated.map((event) => event.fingerprint)).toEqual(['machine-a']);
      expect(activated[0]!.fingerprint).toBe('machine-a');
      expect(activated.slice(1).map((event) => ({ id: event.activation_id, fingerprint: event.fingerprint }))).toEqual(
        rows.map((row) => ({ id: row.id, fingerprint: row.fingerprint })),
      );
      // Each 201 is one of those events; the holder's later calls got 200, everyone else 422.
      const created = activations.filter((answer) => answer.statusCode === 201);
      expect(created.map((answer) => answer.json<{ activation: { id: string } }>().activation.id)).toEqual(rows.map((row) => row.id));
      const holder = rows[0]?.fingerprint;
      for (const answer of activations.filter((answer) => answer.statusCode === 200)) {
        expect(answer.json<{ activation: { fingerprint: string } }>().activation.fingerprint).toBe(holder);
      }
      outcomes[rows.length === 1 ? 'seatTaken' : 'seatLeftFree']++;
    }
    // The deactivation really raced: in most rounds, a racer behind it took the seat.
    expect(outcomes.seatTaken).toBeGreaterThan(0);
  }, 120_000);
});
