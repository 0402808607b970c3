import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_JWT_SECRET, TestDatabase } from '../helpers/test-app';

const ROOT = join(__dirname, '../..');

/** Clients most processes never call, or call long after start-up: required on first use (src/common/lazy-require.ts). */
const DEFERRED = ['nodemailer', 'qrcode', 'libphonenumber-js', 'ioredis', '@nest-lab/throttler-storage-redis', 'jose', 'openid-client'];

describe('the boot requires none of the rarely used clients (issue 21, ready time and RSS)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('boot-modules');
  });
  afterAll(async () => {
    await database.drop();
  });

  it(`a server started as npm start does, without REDIS_URL, has loaded none of ${DEFERRED.join(', ')}`, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'test/fixtures/boot-modules.ts', ...DEFERRED, 'fastify'], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET },
      timeout: 60_000,
    });
    const lastLine = stdout.trim().split('\n').at(-1)!;
    // fastify is the control: the check sees what the boot did load.
    expect(JSON.parse(lastLine)).toEqual({ loaded: ['fastify'] });
  });
});
