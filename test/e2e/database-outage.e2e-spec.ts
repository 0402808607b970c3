import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { ProbeModule } from '../fixtures/probe.module';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * Runs against a Postgres of its own, so stopping it cannot disturb the other test files. The
 * TestDatabase below is the whole embedded cluster's "gatehouse_test" database.
 */
describe('database outage', () => {
  // Not useTestApp: its own Postgres, stopped mid-test, which would also kill useTestApp's SQL client.
  let dir: string;
  let postgres: EmbeddedPostgres;
  let t: TestApp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-outage-pg-'));
    postgres = await startEmbeddedPostgres({ dir, port: 0, database: 'gatehouse_test' });
    t = await createTestApp({
      database: { url: postgres.url, name: 'gatehouse_test', drop: () => Promise.resolve() },
      migrate: true,
      extraModules: [ProbeModule],
    });
  });
  afterAll(async () => {
    await t?.close();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it('is ready while the database is up, 503 while it is down, and ready again once it is back, without a restart', async () => {
    expect((await get('/health/ready')).statusCode).toBe(200);

    // Stopping Postgres kills the pool's idle connections; the pool's error handler keeps us alive.
    await postgres.stop();

    const down = await get('/health/ready');
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(down.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|terminat/i);

    expect((await get('/health/live')).statusCode).toBe(200);

    // Any route that needs the database answers 503 through the global filter, not a 500.
    const query = await get('/test-probe/slow?ms=0');
    expect(query.statusCode).toBe(503);
    expect(query.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(query.headers['retry-after']).toBe('5');

    postgres = await startEmbeddedPostgres({ dir, port: postgres.port, database: 'gatehouse_test' });

    const back = await get('/health/ready');
    expect(back.statusCode).toBe(200);
    expect(back.json()).toEqual({ status: 'ok', database: 'up' });
  });
});
