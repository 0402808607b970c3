import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema';

const ROOT = join(__dirname, '../..');
const MODULES = 'src/modules';

/** Each table and the one repository file allowed to write it; every other module calls that repository. */
const OWNERS: Record<string, string> = {
  users: `${MODULES}/users/users.repository.ts`,
  user_identities: `${MODULES}/oidc/user-identities.repository.ts`,
  refresh_tokens: `${MODULES}/auth/refresh-tokens.repository.ts`,
  password_reset_tokens: `${MODULES}/auth/password-reset.repository.ts`,
  login_failures: `${MODULES}/auth/login-failures.repository.ts`,
  totp_credentials: `${MODULES}/auth/two-factor.repository.ts`,
  recovery_codes: `${MODULES}/auth/two-factor.repository.ts`,
  two_factor_challenges: `${MODULES}/auth/two-factor.repository.ts`,
  accounts: `${MODULES}/accounts/accounts.repository.ts`,
  phone_send_counts: `${MODULES}/accounts/accounts.repository.ts`,
  api_keys: `${MODULES}/api-keys/api-keys.repository.ts`,
  api_key_usage: `${MODULES}/api-keys/api-key-usage.repository.ts`,
  api_key_audit_log: `${MODULES}/api-keys/api-key-usage.repository.ts`,
  products: `${MODULES}/products/products.repository.ts`,
  licenses: `${MODULES}/licenses/licenses.repository.ts`,
  activations: `${MODULES}/licenses/licenses.repository.ts`,
  orders: `${MODULES}/orders/orders.repository.ts`,
  order_items: `${MODULES}/orders/orders.repository.ts`,
  stripe_events: `${MODULES}/billing/billing-events.repository.ts`,
  outbox_messages: `${MODULES}/outbox/outbox.repository.ts`,
  plans: `${MODULES}/subscriptions/plans.repository.ts`,
  subscriptions: `${MODULES}/subscriptions/subscriptions.repository.ts`,
  subscription_changes: `${MODULES}/subscriptions/subscriptions.repository.ts`,
  subscription_invoices: `${MODULES}/subscriptions/subscriptions.repository.ts`,
  subscription_checkouts: `${MODULES}/billing/subscription-checkouts.repository.ts`,
  quota_counters: `${MODULES}/metering/quota-counters.repository.ts`,
  webhook_endpoints: `${MODULES}/webhooks/webhook-endpoints.repository.ts`,
  webhook_deliveries: `${MODULES}/webhooks/webhook-deliveries.repository.ts`,
  webhook_attempts: `${MODULES}/webhooks/webhook-deliveries.repository.ts`,
  idempotency_keys: 'src/common/idempotency/idempotency.repository.ts',
  outbound_mails: 'src/common/mail/outbound-mails.repository.ts',
};

const TABLES = Object.entries(schema)
  .filter(([, value]) => is(value, PgTable))
  .map(([identifier, table]) => ({ identifier, name: getTableName(table as PgTable) }));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return path === 'src/db/schema' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Comments may name a write in prose; only code counts. */
const stripComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Drizzle's `.insert(table)` / `.update(table)` / `.delete(table)`, and raw `INSERT INTO` / `UPDATE` / `DELETE FROM`, by name or `${table}`. */
function writePatterns(table: { identifier: string; name: string }): RegExp[] {
  const target = `(?:"?${escape(table.name)}"?|\\$\\{\\s*${escape(table.identifier)}\\s*\\})(?![\\w.])`;
  return [
    new RegExp(`\\.(?:insert|update|delete)\\(\\s*${escape(table.identifier)}\\s*\\)`),
    new RegExp(`\\b(?:INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+${target}`, 'i'),
  ];
}

const SOURCES = sourceFiles('src').map((path) => ({ path, code: stripComments(readFileSync(join(ROOT, path), 'utf8')) }));

/** Every file that writes each table. */
function writers(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>(TABLES.map((table) => [table.name, new Set<string>()]));
  for (const table of TABLES) {
    for (const { path, code } of SOURCES) {
      if (writePatterns(table).some((pattern) => pattern.test(code))) found.get(table.name)!.add(path);
    }
  }
  return found;
}

describe('table ownership (issue 9, done-means 2)', () => {
  it('names an owning repository for every table in src/db/schema, and each owner does write its table', () => {
    expect(TABLES.map((table) => table.name).sort()).toEqual(Object.keys(OWNERS).sort());
    const found = writers();
    for (const [table, owner] of Object.entries(OWNERS)) expect({ table, owner, writes: found.get(table)!.has(owner) }).toEqual({ table, owner, writes: true });
  });

  it('writes no table outside its owning repository', () => {
    const strays = [...writers()].flatMap(([table, files]) => [...files].filter((file) => file !== OWNERS[table]).map((file) => `${table} written in ${file}`));
    expect(strays).toEqual([]);
  });

  it('has one outbox write path: OutboxRepository, and nothing else names the outbox table', () => {
    const owner = OWNERS.outbox_messages!;
    const naming = SOURCES.filter(({ code }) => /\boutboxMessages\b|\boutbox_messages\b/.test(code)).map(({ path }) => path);
    expect(naming).toEqual([owner]);
    const inserts = SOURCES.flatMap(({ path, code }) => [...code.matchAll(/\.insert\(\s*outboxMessages\s*\)/g)].map(() => path));
    expect(inserts).toEqual([owner]);
  });

  it('catches the writes it looks for (the scan itself is not blind)', () => {
    const sample = stripComments(
      [
        'await tx.insert(licenses).values(row);',
        'db.execute(sql`DELETE FROM ${activations} WHERE id = 1`);',
        'pool.query(`UPDATE "orders" SET status = \'PAID\'`);',
        '// UPDATE products in prose',
      ].join('\n'),
    );
    const hits = TABLES.filter((table) => writePatterns(table).some((pattern) => pattern.test(sample))).map((table) => table.name);
    expect(hits.sort()).toEqual(['activations', 'licenses', 'orders']);
  });
});
