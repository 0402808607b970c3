/**
 * `npm run stripe:dev`: the fake Stripe the tests use, on a fixed port, for development offline.
 * `npm run stripe:dev -- send checkout.session.completed --session cs_…`: has the running fake pay
 * that session and forward the signed event to Gatehouse.
 */
import { parseArgs } from 'node:util';
import { DEV_STRIPE_PRICES } from '../src/modules/subscriptions/dev-stripe-prices';
import { DEV_EVENTS_PATH, FakeStripe, FORWARDED_EVENT_TYPES, STRIPE_TEST_SECRET_KEY, STRIPE_TEST_WEBHOOK_SECRET } from './stripe-dev/fake-stripe';

const DEFAULT_PORT = 12111;
const DEFAULT_FORWARD_TO = 'http://localhost:3000/v1/webhooks/stripe';

const USAGE = `Usage:
  npm run stripe:dev                       start the fake Stripe on 127.0.0.1:$STRIPE_DEV_PORT (${DEFAULT_PORT})
  npm run stripe:dev -- send <type> --session <cs_…> [--forward-to <url>]
      pay the fake's checkout session and POST the signed event to Gatehouse
      (type: ${FORWARDED_EVENT_TYPES.join(', ')}; --forward-to: ${DEFAULT_FORWARD_TO})`;

function port(): number {
  const value = Number(process.env.STRIPE_DEV_PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) fail(`STRIPE_DEV_PORT must be a port number, not ${process.env.STRIPE_DEV_PORT}`);
  return value;
}

/** A wrong command line: what is wrong, and the usage. */
function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function die(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const reason = (error: Error) => (error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message);

async function serve(): Promise<void> {
  const stripe = new FakeStripe({ prices: DEV_STRIPE_PRICES, log: (line) => process.stdout.write(`fake Stripe: ${line}\n`) });
  const url = await stripe.start(port()).catch((error: Error) => die(`Could not listen on port ${port()} (set STRIPE_DEV_PORT for another): ${error.message}`));
  process.stdout.write(
    [
      `Fake Stripe listening on ${url} (Ctrl-C stops it; it keeps nothing). Start Gatehouse with:`,
      '',
      `STRIPE_API_BASE=${url}`,
      `STRIPE_SECRET_KEY=${STRIPE_TEST_SECRET_KEY}`,
      `STRIPE_WEBHOOK_SECRET=${STRIPE_TEST_WEBHOOK_SECRET}`,
      '',
      `Test prices (given to the paid presets at boot in development): ${DEV_STRIPE_PRICES.map((price) => `${price.code} ${price.id}`).join(', ')}`,
      'Pay a checkout session: npm run stripe:dev -- send checkout.session.completed --session cs_…',
      '',
    ].join('\n'),
  );
  const stop = () => void stripe.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function sendArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: { session: { type: 'string' }, 'forward-to': { type: 'string', default: DEFAULT_FORWARD_TO } },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
}

async function send(args: string[]): Promise<void> {
  const { values, positionals } = sendArgs(args);
  const [type, ...extra] = positionals;
  if (!type || extra.length > 0 || !values.session) fail('send needs one event type and --session');
  const fake = `http://127.0.0.1:${port()}${DEV_EVENTS_PATH}`;
  const answer = await fetch(fake, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, session: values.session, forwardTo: values['forward-to'] }),
  }).catch((error: Error) => die(`No fake Stripe at ${fake} (is \`npm run stripe:dev\` running, with the same STRIPE_DEV_PORT?): ${reason(error)}`));
  const result = (await answer.json()) as { error?: string; event?: { id: string; type: string }; forwardedTo?: string; status?: number; body?: string };
  if (result.error) (answer.status === 400 ? fail : die)(result.error);
  process.stdout.write(`${result.event!.type} ${result.event!.id} -> ${result.forwardedTo}: ${result.status} ${result.body}\n`);
  if (result.status! < 200 || result.status! > 299) process.exit(1);
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined) void serve();
else if (command === 'send') void send(rest);
else fail(`Unknown command ${command}`);
