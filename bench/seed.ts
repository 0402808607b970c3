import { Logger } from '@nestjs/common';
import { Pool } from 'pg';
import { createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/config';
import { licenses } from '../src/db/schema';
import { generateLicenseKey, newLicense } from '../src/modules/licenses/license-key';
import { PlansRepository } from '../src/modules/subscriptions/plans.repository';
import { insertApiKey } from '../test/factories/api-keys';
import { orm } from '../test/factories/db';
import { insertProduct } from '../test/factories/products';
import { putOnPlan } from '../test/factories/subscriptions';
import { insertUser, TEST_PASSWORD } from '../test/factories/users';

/** What the scenarios send: keys that exist (and some that do not), and who may log in. */
export interface SeedData {
  licenseKeys: string[];
  unknownLicenseKeys: string[];
  /** An ADMIN's verify-scope key: the vendor asking /v1/access/verify, as the README tells vendors to. */
  vendorKey: string;
  /** 1,000 read-only keys of 100 PREMIUM_MONTHLY customers (10 each). */
  customerKeys: string[];
  loginEmails: string[];
  password: string;
}

const CUSTOMERS = 100;
const KEYS_PER_CUSTOMER = 10;
const PRODUCTS = 100;
const LOGIN_USERS = 20;
const CHUNK = 2_000;

/** The database migrated through the app's own boot, and nothing else: what the unpaired scenarios need. */
export async function migrate(databaseUrl: string, secrets: Record<string, string>): Promise<void> {
  await (await migrated(databaseUrl, secrets)).close();
}

async function migrated(databaseUrl: string, secrets: Record<string, string>) {
  Logger.overrideLogger(['error']);
  const { JWT_SECRET, LICENSE_SIGNING_KEY, DATA_ENCRYPTION_KEY } = secrets;
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, JWT_SECRET, LICENSE_SIGNING_KEY, DATA_ENCRYPTION_KEY });
  const app = await createApp({ config, databaseUrl, migrate: true });
  await app.init();
  return app;
}

/**
 * Migrates the database (through the app's own boot) and fills it: the products, `licenses`
 * perpetual ACTIVE licenses of one product, the API keys and the login users. The plan's per-minute
 * rate is lifted so the scenarios measure the work, not the limiter's refusals.
 */
export async function seed(databaseUrl: string, options: { licenses: number; secrets: Record<string, string> }): Promise<SeedData> {
  const app = await migrated(databaseUrl, options.secrets);
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  try {
    const products = [];
    for (let i = 0; i < PRODUCTS; i++) products.push(await insertProduct(pool, { sku: `BENCH-${i}`, name: `Bench product ${i}`, maxActivations: 5 }));
    const owner = await insertUser(pool, { email: 'bench-licenses@example.com' });
    const now = new Date();
    const licenseKeys: string[] = [];
    for (let start = 0; start < options.licenses; start += CHUNK) {
      const rows = [];
      for (let i = start; i < Math.min(start + CHUNK, options.licenses); i++) {
        const { key, row } = newLicense(products[i % PRODUCTS]!, { userId: owner.id }, now);
        licenseKeys.push(key);
        rows.push(row);
      }
      await orm(pool).insert(licenses).values(rows);
    }
    const unknownLicenseKeys = Array.from({ length: 1_000 }, () => generateLicenseKey());

    const admin = await insertUser(pool, { role: 'ADMIN', email: 'bench-vendor@example.com' });
    const vendorKey = (await insertApiKey(pool, { ownerId: admin.id, scope: 'verify' })).key;
    await app.get(PlansRepository).updatePreset('PREMIUM_MONTHLY', { rateLimitCount: 1_000_000_000, rateLimitWindowSeconds: 60 });
    const customerKeys: string[] = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      const customer = await insertUser(pool, { email: `bench-customer-${c}@example.com` });
      await putOnPlan(app, pool, customer.id, 'PREMIUM_MONTHLY');
      for (let k = 0; k < KEYS_PER_CUSTOMER; k++) customerKeys.push((await insertApiKey(pool, { ownerId: customer.id, scope: 'read-only' })).key);
    }
    const loginEmails: string[] = [];
    for (let u = 0; u < LOGIN_USERS; u++) loginEmails.push((await insertUser(pool, { email: `bench-login-${u}@example.com` })).email);
    await pool.query('VACUUM ANALYZE');
    return { licenseKeys, unknownLicenseKeys, vendorKey, customerKeys, loginEmails, password: TEST_PASSWORD };
  } finally {
    await pool.end();
    await app.close();
  }
}
