import { afterAll, beforeAll } from 'vitest';
import { FakeStripe, STRIPE_TEST_SECRET_KEY, STRIPE_TEST_WEBHOOK_SECRET } from './fake-stripe';
import { Mailbox } from './mailbox';

const stripeKeys = () => ({ STRIPE_SECRET_KEY: STRIPE_TEST_SECRET_KEY, STRIPE_WEBHOOK_SECRET: STRIPE_TEST_WEBHOOK_SECRET });

/**
 * A FakeStripe for a file whose app pays through Stripe. Call it before `useTestApp({ env })`: its
 * beforeAll then starts the fake before the app boots and fills `env` with the Stripe keys and its
 * address (plus `extraEnv`), and its afterAll (after-hooks run in reverse) stops it once the app has closed.
 */
export function useFakeStripe(extraEnv: Record<string, string> = {}) {
  const stripe = new FakeStripe();
  const env: Record<string, string> = { ...stripeKeys(), ...extraEnv };
  beforeAll(async () => {
    env.STRIPE_API_BASE = await stripe.start();
  });
  afterAll(() => stripe.stop());
  return { stripe, env };
}

/** `useFakeStripe` with a Mailbox too, for a file whose app also sends mail: both start together, `env.SMTP_URL` is the mailbox. */
export function useStripeWithMailbox(extraEnv: Record<string, string> = {}) {
  const stripe = new FakeStripe();
  const mailbox = new Mailbox();
  const env: Record<string, string> = { ...stripeKeys(), ...extraEnv };
  beforeAll(async () => {
    [env.STRIPE_API_BASE, env.SMTP_URL] = await Promise.all([stripe.start(), mailbox.start()]);
  });
  afterAll(async () => {
    await Promise.all([stripe.stop(), mailbox.stop()]);
  });
  return { stripe, mailbox, env };
}
