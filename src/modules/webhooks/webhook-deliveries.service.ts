import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { invalidField } from '../../common/errors/field-issues';
import { DomainEvents } from '../../common/events';
import { toPage } from '../../common/pagination';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { toWebhookDeliveryView } from './webhook-deliveries.mapper';
import { WebhookDeliveryListQueryDto, WebhookRecoverDto } from './webhook-deliveries.schemas';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';

/** Inspecting and replaying deliveries: owners see and resend their own, an ADMIN everyone's. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly dispatcher: WebhookDispatcher,
    private readonly clock: Clock,
    background: BackgroundTasks,
    events: DomainEvents,
  ) {
    // A demoted ADMIN's `all` endpoints stop at once: what they still had pending about other users
    // is cancelled (reads and replays of it are already out of scope; an attempt claimed in between
    // cancels itself).
    events.on('user.access-changed', ({ userId }) =>
      background.run('webhook deliveries of a demoted ADMIN', async () => void (await this.deliveries.cancelAboutOthers(userId, this.clock.now()))),
    );
  }

  async list(principal: Principal, query: WebhookDeliveryListQueryDto) {
    const { endpointId, eventType, status, cursor, limit } = query;
    const rows = await this.deliveries.page(ownerScope(principal), { endpointId, eventType, status }, cursor, limit);
    return toPage(rows.map(toWebhookDeliveryView), limit);
  }

  async get(principal: Principal, id: string) {
    return toWebhookDeliveryView(found(await this.deliveries.findOwned(ownerScope(principal), id)));
  }

  /** A new attempt now, whatever state the delivery was in; 409 while an attempt in flight holds it. */
  async retry(principal: Principal, id: string) {
    const scope = ownerScope(principal);
    found(await this.deliveries.findOwned(scope, id));
    // Requeued and claimed in one transaction. Not requeued: an attempt holds it already.
    const attempted = await this.dispatcher.attemptNow(id, async (tx, now) => (await this.deliveries.requeueIn(tx, scope, [id], now)).length > 0);
    if (!attempted) throw new DomainError('CONFLICT');
    return toWebhookDeliveryView(found(await this.deliveries.findOwned(scope, id)));
  }

  /** Every FAILED delivery of the endpoint created since `since` is due again now; the dispatcher sends them. */
  async recover(principal: Principal, endpointId: string, dto: WebhookRecoverDto) {
    const scope = ownerScope(principal);
    if (!(await this.endpoints.findOwned(scope, endpointId))) throw new DomainError('NOT_FOUND');
    const now = this.clock.now();
    const since = new Date(dto.since);
    if (since > now) throw invalidSince('In the future');
    const requeued = await this.deliveries.requeue(scope, { endpointId, since }, now);
    return { requeued: requeued.length };
  }

  /** Sends a `ping` to the endpoint now and answers with the delivery and its attempt. */
  async test(principal: Principal, endpointId: string) {
    const scope = ownerScope(principal);
    const endpoint = await this.endpoints.findOwned(scope, endpointId);
    if (!endpoint) throw new DomainError('NOT_FOUND');
    const deliveryId = await this.dispatcher.ping(endpoint);
    return toWebhookDeliveryView(found(await this.deliveries.findOwned(scope, deliveryId)));
  }
}

function found<T>(row: T | undefined): T {
  if (!row) throw new DomainError('NOT_FOUND');
  return row;
}

const invalidSince = (reason: string) => invalidField('since', 'INVALID_VALUE', { literal: reason });
