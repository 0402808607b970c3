import { afterAll, beforeAll } from 'vitest';
import { FakeStripe, STRIPE_TEST_SECRET_KEY, STRIPE_TEST_WEBHOOK_SECRET } from './fake-stripe';
import { Mailbox } from './mailbox';

/**
 * A FakeStripe and a Mailbox for a file whose app pays through Stripe and sends mail. Call it before
 * `useTestApp({ env })`: its beforeAll then starts both before the app boots and fills `env` with
 * the Stripe keys and both addresses (plus `extraEnv`), and its afterAll (after-hooks run in
 * reverse) stops both once the app has closed.
 */
export function useStripeWithMailbox(extraEnv: Record<string, string> = {}) {
  const stripe = new FakeStripe();
  const mailbox = new Mailbox();
  const env: Record<string, string> = { STRIPE_SECRET_KEY: STRIPE_TEST_SECRET_KEY, STRIPE_WEBHOOK_SECRET: STRIPE_TEST_WEBHOOK_SECRET, ...extraEnv };
  beforeAll(async () => {
    [env.STRIPE_API_BASE, env.SMTP_URL] = await Promise.all([stripe.start(), mailbox.start()]);
  });
  afterAll(async () => {
    await Promise.all([stripe.stop(), mailbox.stop()]);
  });
  return { stripe, mailbox, env };
}
