import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Database, Transaction } from '../../src/db/database';
import type { ApiKeysRepository } from '../../src/modules/api-keys/api-keys.repository';
import type { OutboundMailsRepository } from '../../src/common/mail/outbound-mails.repository';
import type { AccountsRepository } from '../../src/modules/accounts/accounts.repository';
import type { PasswordResetRepository } from '../../src/modules/auth/password-reset.repository';
import type { LicensesRepository } from '../../src/modules/licenses/licenses.repository';
import type { OrdersRepository } from '../../src/modules/orders/orders.repository';
import type { OutboxRepository } from '../../src/modules/outbox/outbox.repository';
import type { ProductsRepository } from '../../src/modules/products/products.repository';
import type { SubscriptionChangesService } from '../../src/modules/subscriptions/subscription-changes.service';
import type { SubscriptionsRepository } from '../../src/modules/subscriptions/subscriptions.repository';
import type { UsersRepository } from '../../src/modules/users/users.repository';
import type { WebhookDeliveriesRepository } from '../../src/modules/webhooks/webhook-deliveries.repository';

const ROOT = join(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const LOCK = /\.for\('(?:update|share|no key update|key share)'|\bFOR (?:UPDATE|SHARE|NO KEY UPDATE|KEY SHARE)\b/g;
/** A class method (two spaces in), or a module-level function (the SQL of a long statement kept apart). */
const MEMBER = /^(?: {2}(?:(?:private|public|protected|static|async)\s+)*|(?:export\s+)?(?:async\s+)?function\s+)(\w+)(?:<[^>]*>)?\(([^)]*)/gm;

/** The method or function around a place in a file: its name, its parameters, and whether it only builds SQL. */
function memberAt(path: string, code: string, index: number) {
  const before = code.slice(0, index);
  const member = [...before.matchAll(MEMBER)].at(-1)!;
  const signature = code.slice(member.index, code.indexOf('{', member.index + member[0].length));
  return {
    name: member[1]!,
    method: `${path}#${member[1]}`,
    params: member[2]!.trim(),
    buildsSql: /\):\s*SQL\s*$/.test(signature.trim()),
  };
}

/**
 * Every method that takes a row lock. A function that only builds the locking SQL (returns `SQL`,
 * a subquery of a longer statement) runs nothing itself: its callers are judged in its place.
 */
function lockingMethods() {
  const files = sourceFiles('src').map((path) => ({ path, code: readFileSync(join(ROOT, path), 'utf8') }));
  return files.flatMap(({ path, code }) =>
    [...code.matchAll(LOCK)].flatMap((lock) => {
      const found = memberAt(path, code, lock.index);
      if (!found.buildsSql) return [found];
      const call = new RegExp(`\\b${found.name}\\(`, 'g');
      return files.flatMap((file) =>
        [...file.code.matchAll(call)].map((use) => memberAt(file.path, file.code, use.index)).filter((caller) => caller.name !== found.name),
      );
    }),
  );
}

/** The first parameter of a method, as callers must pass it. */
type TxOf<M> = M extends (tx: infer T, ...rest: never[]) => unknown ? T : never;

describe('row locks cannot silently lock nothing', () => {
  it('every method that runs FOR UPDATE / FOR SHARE takes `tx: Transaction` first (a service opens the transaction)', () => {
    const methods = lockingMethods();
    expect(methods.length).toBeGreaterThan(10);
    const loose = methods.filter((found) => !/^tx: Transaction\b/.test(found.params)).map((found) => found.method);
    expect(loose).toEqual([]);
  });

  it('the pool is not a Transaction, so passing it where a lock is taken does not compile', () => {
    expectTypeOf<Database>().not.toExtend<Transaction>();
    expectTypeOf<Transaction>().toExtend<TxOf<SubscriptionsRepository['lockForAccount']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<SubscriptionsRepository['lockForAccount']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<SubscriptionsRepository['lockUnlessBusy']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<SubscriptionChangesService['lock']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<OrdersRepository['lockOrder']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<LicensesRepository['lockByKeyHash']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<ProductsRepository['lockStock']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<OutboxRepository['claimUndelivered']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<UsersRepository['lockById']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<PasswordResetRepository['lockById']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<AccountsRepository['lockByEmailToken']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<ApiKeysRepository['lockForRotation']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<AccountsRepository['reservePhoneCode']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<AccountsRepository['verifyPhoneCode']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<OutboundMailsRepository['claimDue']>>();
    expectTypeOf<Database>().not.toExtend<TxOf<WebhookDeliveriesRepository['claimDue']>>();
  });

  it('a call passing the pool is refused by the compiler (checked by npm run typecheck)', () => {
    // Never called: `tsc` checks each @ts-expect-error, and fails the build if the pool is accepted.
    const passThePool = (db: Database, repositories: { subscriptions: SubscriptionsRepository; orders: OrdersRepository; products: ProductsRepository }) => [
      // @ts-expect-error the pool is not a transaction: FOR UPDATE on it would lock nothing
      repositories.subscriptions.lockForAccount(db, {} as never),
      // @ts-expect-error the pool is not a transaction
      repositories.orders.lockOrder(db, { id: 'ord_x' }),
      // @ts-expect-error the pool is not a transaction
      repositories.products.lockStock(db, 'prd_x'),
    ];
    expect(passThePool).toBeTypeOf('function');
  });
});
