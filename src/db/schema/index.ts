/**
 * Every table, re-exported for drizzle's relational queries and for drizzle-kit.
 * Each domain adds `schema/<domain>.ts` and a line here.
 */
export * from './users';
export * from './user-identities';
export * from './accounts';
export * from './api-keys';
export * from './products';
export * from './licenses';
export * from './orders';
export * from './outbox';
export * from './subscriptions';
export * from './quotas';
export * from './webhooks';
export * from './idempotency';
export * from './two-factor';
export * from './mail';
