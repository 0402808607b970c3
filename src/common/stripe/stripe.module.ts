import { Global, Module } from '@nestjs/common';
import Stripe from 'stripe';
import { APP_CONFIG, AppConfig } from '../../config/config';

export const STRIPE = Symbol('STRIPE');

/** The `stripe` client, pointed at STRIPE_API_BASE when set (a local fake in tests). */
@Global()
@Module({
  providers: [
    {
      provide: STRIPE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const base = config.stripe.apiBase ? new URL(config.stripe.apiBase) : undefined;
        return new Stripe(config.stripe.secretKey ?? 'sk_test_unconfigured', {
          maxNetworkRetries: 1,
          timeout: 10_000,
          ...(base
            ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol.replace(':', '') as 'http' | 'https' }
            : {}),
        });
      },
    },
  ],
  exports: [STRIPE],
})
export class StripeModule {}
