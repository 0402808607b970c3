import { Injectable } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { invalidField } from '../../common/errors/field-issues';
import { grossOf } from '../../common/money/money';
import { AppConfig, InjectConfig } from '../../config/config';
import { OrderRow, OrdersService } from '../orders/orders.service';
import { ProductsService } from '../products/products.service';
import { UsersService } from '../users/users.service';
import { CheckoutSessionCreateDto } from './billing.schemas';
import { CheckoutFlow, CheckoutStrategy } from './checkout-flow';
import type { CheckoutSessionRequest } from './payment-provider';

const MAX_DISTINCT_PRODUCTS = 15;

type PricedLine = { product: Awaited<ReturnType<ProductsService['findByIds']>>[number]; quantity: number; unitGross: number };
type Buyer = { id: string; email: string };
type OrderSession = { id: string; url: string; orderId: string };

/** Buying products: a PENDING order priced from our catalog, and a checkout session in payment mode for it. */
@Injectable()
export class OrderCheckoutService {
  constructor(
    private readonly flow: CheckoutFlow,
    private readonly orders: OrdersService,
    private readonly products: ProductsService,
    private readonly users: UsersService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async create(principal: Principal, dto: CheckoutSessionCreateDto): Promise<OrderSession> {
    this.flow.assertLinks(dto);
    this.flow.assertProvider();
    const lines = await this.priced(dto);
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    return this.flow.run(this.strategy(user, lines, dto));
  }

  private strategy(user: Buyer, lines: PricedLine[], dto: CheckoutSessionCreateDto): CheckoutStrategy<OrderRow, OrderSession> {
    return {
      reserve: async () => ({
        reservation: await this.orders.createPending(
          { userId: user.id, currency: lines[0]!.product.currency, amountTotalMinor: lines.reduce((sum, line) => sum + line.unitGross * line.quantity, 0) },
          lines.map((line) => ({
            productId: line.product.id,
            quantity: line.quantity,
            unitNetMinor: line.product.priceNetMinor,
            vatBasisPoints: line.product.vatBasisPoints,
            unitGrossMinor: line.unitGross,
          })),
        ),
      }),
      // One key for every attempt: a retry opens no second session for the order.
      session: (_deadline, order) =>
        Promise.resolve({ request: sessionRequest(order.id, user, lines, dto), idempotencyKey: `gatehouse-order-checkout-${order.id}` }),
      record: async (_deadline, order, session) => {
        await this.orders.attachSession(order.id, session.id);
        return { id: session.id, url: session.url, orderId: order.id };
      },
      release: (order) => this.orders.checkoutFailed(order.id),
    };
  }

  /** The lines priced from our catalog: products that exist, are sold, are in stock and share a currency. */
  private async priced(dto: CheckoutSessionCreateDto): Promise<PricedLine[]> {
    const quantities = this.unitsPerProduct(dto);
    const products = await this.products.findByIds([...quantities.keys()]);
    const byId = new Map(products.map((product) => [product.id, product]));
    const lines = [...quantities].map(([productId, quantity], index) => {
      const product = byId.get(productId);
      if (!product) {
        throw invalidField(`items.${index}.productId`, 'INVALID_VALUE', { fallback: 'No such product' });
      }
      if (!product.active) throw new DomainError('PRODUCT_INACTIVE');
      if (product.stock !== null && product.stock < quantity) throw new DomainError('OUT_OF_STOCK');
      return { product, quantity, unitGross: grossOf(product.priceNetMinor, product.vatBasisPoints) };
    });
    const currencies = new Set(lines.map((line) => line.product.currency));
    if (currencies.size > 1) {
      throw invalidField('items', 'INVALID_VALUE', { fallback: 'All products of one order must share a currency' });
    }
    return lines;
  }

  /** Units per product; each unit is a license row and a line in the buyer's mail, so an order is bounded. */
  private unitsPerProduct(dto: CheckoutSessionCreateDto): Map<string, number> {
    const { maxUnitsPerLine, maxUnitsPerOrder } = this.config.checkout;
    const quantities = new Map<string, number>();
    dto.items.forEach((item, index) => {
      const quantity = (quantities.get(item.productId) ?? 0) + item.quantity;
      if (quantity > maxUnitsPerLine) {
        throw invalidField(
          `items.${index}.quantity`,
          'TOO_BIG',
          { fallback: `At most ${maxUnitsPerLine} units of one product per order` },
          { maximum: maxUnitsPerLine },
        );
      }
      quantities.set(item.productId, quantity);
    });
    // Provider metadata values hold 500 characters: productIds fits 15 ids.
    if (quantities.size > MAX_DISTINCT_PRODUCTS) {
      throw invalidField('items', 'TOO_BIG', { literal: `At most ${MAX_DISTINCT_PRODUCTS} different products` }, { maximum: MAX_DISTINCT_PRODUCTS });
    }
    const total = [...quantities.values()].reduce((sum, quantity) => sum + quantity, 0);
    if (total > maxUnitsPerOrder) {
      throw invalidField('items', 'TOO_BIG', { literal: `At most ${maxUnitsPerOrder} units per order` }, { maximum: maxUnitsPerOrder });
    }
    return quantities;
  }
}

/** A session in payment mode for the order's lines, which all share one currency. */
function sessionRequest(orderId: string, user: Buyer, lines: PricedLine[], dto: CheckoutSessionCreateDto): CheckoutSessionRequest {
  return {
    mode: 'payment',
    reference: orderId,
    customer: { email: user.email },
    lines: lines.map((line) =>
      line.product.stripePriceId
        ? { priceId: line.product.stripePriceId, quantity: line.quantity }
        : { name: line.product.name, unitAmountMinor: line.unitGross, currency: line.product.currency, quantity: line.quantity },
    ),
    metadata: { userId: user.id, orderId, productIds: JSON.stringify(lines.map((line) => line.product.id)) },
    // Copied onto the payment and its charges, so their events find the order.
    carriedMetadata: { userId: user.id, orderId },
    successUrl: dto.successUrl,
    cancelUrl: dto.cancelUrl,
  };
}
