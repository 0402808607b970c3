import { Inject, Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { grossOf } from '../../common/money/money';
import { StripeDeadlines } from '../../common/stripe/stripe-deadline';
import { STRIPE } from '../../common/stripe/stripe.module';
import { StripeApi } from '../../common/stripe/stripe-sdk';
import { assertAllowedLink } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import { ProductRow, ProductsRepository } from '../products/products.repository';
import { UserRow, UsersRepository } from '../users/users.repository';
import { OrdersRepository } from './orders.repository';
import { CheckoutSessionCreateDto } from './orders.schemas';

const MAX_DISTINCT_PRODUCTS = 15;

@Injectable()
export class CheckoutService {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly products: ProductsRepository,
    private readonly users: UsersRepository,
    private readonly transactions: TransactionRunner,
    @Inject(STRIPE) private readonly stripe: StripeApi,
    private readonly stripeDeadlines: StripeDeadlines,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** A PENDING order priced from our catalog, and a Stripe Checkout Session in payment mode for it. */
  async create(principal: Principal, dto: CheckoutSessionCreateDto) {
    assertAllowedLink('successUrl', dto.successUrl, this.config.allowedLinkOrigins);
    assertAllowedLink('cancelUrl', dto.cancelUrl, this.config.allowedLinkOrigins);
    if (!this.config.stripe.secretKey) throw new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: 3600 } });

    const quantities = this.unitsPerProduct(dto);
    const products = await this.products.findByIds([...quantities.keys()]);
    const byId = new Map(products.map((product) => [product.id, product]));
    const lines = [...quantities].map(([productId, quantity], index) => {
      const product = byId.get(productId);
      if (!product) {
        throw new DomainError('VALIDATION_FAILED', { errors: [{ field: `items.${index}.productId`, code: 'INVALID_VALUE', message: 'No such product' }] });
      }
      if (!product.active) throw new DomainError('PRODUCT_INACTIVE');
      if (product.stock !== null && product.stock < quantity) throw new DomainError('OUT_OF_STOCK');
      return { product, quantity, unitGross: grossOf(product.priceNetMinor, product.vatBasisPoints) };
    });
    const currencies = new Set(lines.map((line) => line.product.currency));
    if (currencies.size > 1) {
      throw new DomainError('VALIDATION_FAILED', {
        errors: [{ field: 'items', code: 'INVALID_VALUE', message: 'All products of one order must share a currency' }],
      });
    }
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    const currency = lines[0]!.product.currency;

    const order = await this.transactions.run((tx) =>
      this.orders.createPending(
        tx,
        { userId: user.id, currency, amountTotalMinor: lines.reduce((sum, line) => sum + line.unitGross * line.quantity, 0) },
        lines.map((line) => ({
          productId: line.product.id,
          quantity: line.quantity,
          unitNetMinor: line.product.priceNetMinor,
          vatBasisPoints: line.product.vatBasisPoints,
          unitGrossMinor: line.unitGross,
        })),
      ),
    );
    let session: Stripe.Checkout.Session;
    try {
      // One key for every attempt: a retry opens no second session for the order.
      session = await this.stripeDeadlines
        .start()
        .write(
          (options) => this.stripe.call((api) => api.checkout.sessions.create(sessionParams(order.id, user, lines, dto), options)),
          `gatehouse-order-checkout-${order.id}`,
        );
    } catch (error) {
      await this.orders.markFailed(order.id);
      throw error;
    }
    await this.orders.setSession(order.id, session.id);
    return { id: session.id, url: session.url ?? '', orderId: order.id };
  }

  /** Units per product; each unit is a license row and a line in the buyer's mail, so an order is bounded. */
  private unitsPerProduct(dto: CheckoutSessionCreateDto): Map<string, number> {
    const { maxUnitsPerLine, maxUnitsPerOrder } = this.config.checkout;
    const quantities = new Map<string, number>();
    dto.items.forEach((item, index) => {
      const quantity = (quantities.get(item.productId) ?? 0) + item.quantity;
      if (quantity > maxUnitsPerLine) {
        throw new DomainError('VALIDATION_FAILED', {
          errors: [
            {
              field: `items.${index}.quantity`,
              code: 'TOO_BIG',
              message: `At most ${maxUnitsPerLine} units of one product per order`,
              params: { maximum: maxUnitsPerLine },
            },
          ],
        });
      }
      quantities.set(item.productId, quantity);
    });
    // Stripe metadata values hold 500 characters: productIds fits 15 ids.
    if (quantities.size > MAX_DISTINCT_PRODUCTS) {
      throw new DomainError('VALIDATION_FAILED', {
        errors: [
          {
            field: 'items',
            code: 'TOO_BIG',
            message: `At most ${MAX_DISTINCT_PRODUCTS} different products`,
            params: { maximum: MAX_DISTINCT_PRODUCTS, own: 1 },
          },
        ],
      });
    }
    const total = [...quantities.values()].reduce((sum, quantity) => sum + quantity, 0);
    if (total > maxUnitsPerOrder) {
      throw new DomainError('VALIDATION_FAILED', {
        errors: [{ field: 'items', code: 'TOO_BIG', message: `At most ${maxUnitsPerOrder} units per order`, params: { maximum: maxUnitsPerOrder, own: 1 } }],
      });
    }
    return quantities;
  }
}

type PricedLine = { product: ProductRow; quantity: number; unitGross: number };

/** A Checkout Session in payment mode for the order's lines, which all share one currency. */
function sessionParams(orderId: string, user: UserRow, lines: PricedLine[], dto: CheckoutSessionCreateDto): Stripe.Checkout.SessionCreateParams {
  const currency = lines[0]!.product.currency.toLowerCase();
  return {
    mode: 'payment',
    line_items: lines.map((line) =>
      line.product.stripePriceId
        ? { price: line.product.stripePriceId, quantity: line.quantity }
        : { price_data: { currency, unit_amount: line.unitGross, product_data: { name: line.product.name } }, quantity: line.quantity },
    ),
    customer_email: user.email,
    client_reference_id: orderId,
    metadata: { userId: user.id, orderId, productIds: JSON.stringify(lines.map((line) => line.product.id)) },
    // Copied onto the PaymentIntent and its charges, so their events find the order.
    payment_intent_data: { metadata: { userId: user.id, orderId } },
    success_url: dto.successUrl,
    cancel_url: dto.cancelUrl,
  };
}
