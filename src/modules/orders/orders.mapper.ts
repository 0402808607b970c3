import { iso, isoOrNull } from '../../common/iso';
import { formatMoney, formatRate } from '../../common/money/money';
import { OrderItemRow, OrderRow } from './orders.repository';

export function toOrderView(row: OrderRow) {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    currency: row.currency,
    amountTotal: formatMoney(row.amountTotalMinor),
    amountRefunded: formatMoney(row.amountRefundedMinor),
    paidAt: isoOrNull(row.paidAt),
    oversold: row.oversold,
    createdAt: iso(row.createdAt),
  };
}

export function toOrderItemView(item: OrderItemRow) {
  return {
    productId: item.productId,
    quantity: item.quantity,
    unitPriceNet: formatMoney(item.unitNetMinor),
    vat: formatRate(item.vatBasisPoints),
    unitPriceGross: formatMoney(item.unitGrossMinor),
  };
}
