import type { PlanLimit } from '../../db/schema/subscriptions';
import type { Entitlement } from './entitlements.service';
import type { CounterKey } from './quota-counters.repository';
import type { QuotaWindow } from './quota-windows';

/** A call the plan admits, ready to be counted against one limit's window. */
export interface Charge {
  entitlement: Entitlement;
  limit: PlanLimit;
  window: QuotaWindow;
  key: CounterKey;
}
