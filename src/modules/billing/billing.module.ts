import { Module } from '@nestjs/common';
import { LicensesModule } from '../licenses/licenses.module';
import { OrdersModule } from '../orders/orders.module';
import { ProductsModule } from '../products/products.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { UsersModule } from '../users/users.module';
import { BillingEventsController } from './billing-events.controller';
import { BillingEventsRepository } from './billing-events.repository';
import { BillingEventsService } from './billing-events.service';
import { CheckoutFlow } from './checkout-flow';
import { OrderCheckoutController } from './order-checkout.controller';
import { OrderCheckoutService } from './order-checkout.service';
import { OrderFulfilment } from './order-fulfilment.service';
import { PAYMENT_PROVIDER } from './payment-provider';
import { StripePaymentProvider } from './stripe-payment-provider';
import { SubscriptionBilling } from './subscription-billing.service';
import { SubscriptionCheckoutController } from './subscription-checkout.controller';
import { SubscriptionCheckoutService } from './subscription-checkout.service';
import { SubscriptionCheckoutsRepository } from './subscription-checkouts.repository';

/**
 * Payments: both checkouts, and the provider's events turned into commands to orders (OrderFulfilment)
 * and subscriptions (SubscriptionBilling). The provider (Stripe) is reached through PaymentProvider only.
 */
@Module({
  imports: [OrdersModule, ProductsModule, LicensesModule, SubscriptionsModule, UsersModule],
  controllers: [OrderCheckoutController, SubscriptionCheckoutController, BillingEventsController],
  providers: [
    { provide: PAYMENT_PROVIDER, useClass: StripePaymentProvider },
    BillingEventsService,
    BillingEventsRepository,
    OrderFulfilment,
    SubscriptionBilling,
    CheckoutFlow,
    OrderCheckoutService,
    SubscriptionCheckoutService,
    SubscriptionCheckoutsRepository,
  ],
  exports: [BillingEventsService],
})
export class BillingModule {}
