/**
 * `npm run bench:validate`: throughput and latency of POST /v1/licenses/validate, the hottest
 * public endpoint, through the real app on embedded Postgres (or DATABASE_URL), over loopback.
 * Numbers are recorded in bench/README.md; rerun them there after a change to the hot path.
 */
import autocannon from 'autocannon';
import { BenchApp, startBenchApp } from './bench-app';
import { newLicense } from '../src/modules/licenses/license-key';
import { LicensesRepository } from '../src/modules/licenses/licenses.repository';
import { ProductsRepository } from '../src/modules/products/products.repository';
import { UsersRepository } from '../src/modules/users/users.repository';

async function main() {
  const { app, url, stop } = await startBenchApp({ RATE_LIMIT_LICENSE_VALIDATE: '100000000/60' });

  const product = await app
    .get(ProductsRepository)
    .insert({ sku: `BENCH-${Date.now()}`, name: 'Bench', priceNetMinor: 1000, vatBasisPoints: 2000, maxActivations: 5 });
  const { key, row } = newLicense(product, { userId: await benchUser(app) }, new Date());
  await app.get(LicensesRepository).insert(row);

  const duration = Number(process.env.BENCH_SECONDS ?? 10);
  for (const [label, body] of [
    ['VALID (writes lastValidatedAt + outbox row, signs a certificate)', { key }],
    ['NOT_FOUND (one lookup)', { key: 'ABCDE-FGHJK-MNPQR-STVWX-YZ012' }],
  ] as const) {
    const result = await autocannon({
      url: `${url}/v1/licenses/validate`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      connections: 20,
      // Load is generated in a worker thread, not on the event loop the app serves from.
      workers: 1,
      duration,
    });
    process.stdout.write(
      `${label}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
        `non-2xx ${result.non2xx}, errors ${result.errors}\n`,
    );
  }
  await stop();
}

async function benchUser(app: BenchApp['app']): Promise<string> {
  const result = await app
    .get(UsersRepository)
    .create({ email: `bench-${Date.now()}@example.com`, passwordHash: 'x', firstName: 'B', lastName: 'B', locale: 'en', timezone: 'UTC' });
  if (result.outcome !== 'created') throw new Error('The bench user exists already');
  return result.user.id;
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
