/** The fake Stripe lives in scripts/ so that `npm run stripe:dev` serves the same one the tests use. */
export * from '../../scripts/stripe-dev/fake-stripe';
