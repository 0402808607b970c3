import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { StripeDeadlines } from './stripe-deadline';
import { StripeApi } from './stripe-sdk';

/** The StripeApi (the `stripe` client, loaded on its first call). */
export const STRIPE = Symbol('STRIPE');

/** The Stripe client and the deadlines every call is made under. */
@Global()
@Module({
  providers: [
    {
      provide: STRIPE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new StripeApi(config.stripe),
    },
    StripeDeadlines,
  ],
  exports: [STRIPE, StripeDeadlines],
})
export class StripeModule {}
