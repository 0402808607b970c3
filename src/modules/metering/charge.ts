import type { PlanLimit } from '../../db/schema/subscriptions';
import type { CounterKey } from '../subscriptions/quota-counters.repository';
import type { QuotaWindow } from '../subscriptions/quota-windows';
import type { Entitlement } from '../subscriptions/subscriptions.mapper';

/** A call the plan admits, ready to be counted against one limit's window. */
export interface Charge {
  entitlement: Entitlement;
  limit: PlanLimit;
  window: QuotaWindow;
  key: CounterKey;
}
