import { Global, Module } from '@nestjs/common';
import Stripe from 'stripe';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { StripeDeadlines } from './stripe-deadline';

export const STRIPE = Symbol('STRIPE');

/**
 * The `stripe` client, pointed at STRIPE_API_BASE when set (a local fake in tests), and the
 * deadlines every call is made under (StripeDeadline retries, so the client itself does not).
 */
@Global()
@Module({
  providers: [
    {
      provide: STRIPE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const base = config.stripe.apiBase ? new URL(config.stripe.apiBase) : undefined;
        return new Stripe(config.stripe.secretKey ?? 'sk_test_unconfigured', {
          maxNetworkRetries: 0,
          timeout: config.stripe.timeoutMs,
          ...(base
            ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol.replace(':', '') as 'http' | 'https' }
            : {}),
        });
      },
    },
    StripeDeadlines,
  ],
  exports: [STRIPE, StripeDeadlines],
})
export class StripeModule {}
