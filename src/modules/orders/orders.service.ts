import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { toPage } from '../../common/pagination';
import { toOrderItemView, toOrderView } from './orders.mapper';
import { OrdersRepository } from './orders.repository';

@Injectable()
export class OrdersService {
  constructor(private readonly orders: OrdersRepository) {}

  async list(principal: Principal, cursor: string | undefined, limit: number) {
    const page = toPage(await this.orders.list(ownerScope(principal), cursor, limit), limit);
    return { items: page.items.map(toOrderView), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string) {
    const found = await this.orders.findOwned(ownerScope(principal), id);
    if (!found) throw new DomainError('NOT_FOUND');
    return { ...toOrderView(found.order), items: found.items.map(toOrderItemView) };
  }
}
