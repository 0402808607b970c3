import type Stripe from 'stripe';

/** Where the client points and how it waits (AppConfig['stripe']). */
export interface StripeApiOptions {
  secretKey?: string;
  /** A local fake in tests. */
  apiBase?: string;
  timeoutMs: number;
}

/**
 * The `stripe` client, built on the first outgoing call, pointed at STRIPE_API_BASE when set:
 * most processes (and every Stripe event received, verified with node:crypto) never call Stripe,
 * and loading the SDK costs start-up time and memory. StripeDeadline retries, so the client
 * itself does not.
 */
export class StripeApi {
  private client: Stripe | undefined;

  constructor(private readonly options: StripeApiOptions) {}

  /** Calls Stripe through the client: `stripe.call((api) => api.customers.create(…))`. */
  call<T>(use: (api: Stripe) => Promise<T>): Promise<T> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here, on first use
    this.client ??= this.build(require('stripe') as typeof Stripe);
    return use(this.client);
  }

  private build(Sdk: typeof Stripe): Stripe {
    const base = this.options.apiBase ? new URL(this.options.apiBase) : undefined;
    return new Sdk(this.options.secretKey ?? 'sk_test_unconfigured', {
      maxNetworkRetries: 0,
      timeout: this.options.timeoutMs,
      ...(base
        ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol.replace(':', '') as 'http' | 'https' }
        : {}),
    });
  }
}
