import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { formatMoney, formatRate } from '../../common/money/money';
import { toPage } from '../../common/pagination';
import { OrderRow, OrdersRepository } from './orders.repository';

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
    return {
      ...toOrderView(found.order),
      items: found.items.map((item) => ({
        productId: item.productId,
        quantity: item.quantity,
        unitPriceNet: formatMoney(item.unitNetMinor),
        vat: formatRate(item.vatBasisPoints),
        unitPriceGross: formatMoney(item.unitGrossMinor),
      })),
    };
  }
}


function toOrderView(row: OrderRow) {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    currency: row.currency,
    amountTotal: formatMoney(row.amountTotalMinor),
    amountRefunded: formatMoney(row.amountRefundedMinor),
    paidAt: row.paidAt?.toISOString() ?? null,
    oversold: row.oversold,
    createdAt: row.createdAt.toISOString(),
  };
}
