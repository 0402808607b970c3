/**
 * `node -r @swc-node/register bench/route-guard.ts`: the CPU and wall time of the route guard
 * stage alone (RouteGuard.admit with the route's compiled plan, called directly with a request
 * built here), one request at a time, for an open route, a metered route by API key, and an
 * unmetered one by API key and by access token. Environment: DATABASE_URL (a scratch database; default embedded),
 * BENCH_REQUESTS (3000).
 */
import { Client } from 'pg';
import { startBenchApp } from './bench-app';
import { GuardedRoute, RouteGuard } from '../src/common/auth/route.guard';
import { planRoutes } from '../src/common/auth/route-plans';
import { routeInputsOf } from '../src/common/validation/route-inputs';
import { LicensesController } from '../src/modules/licenses/licenses.controller';
import { IntegrationProductsController } from '../src/modules/products/products.controller';
import { UsersController } from '../src/modules/users/users.controller';
import { PlansRepository } from '../src/modules/subscriptions/plans.repository';
import { insertApiKey } from '../test/factories/api-keys';
import { insertUser, login } from '../test/factories/users';
import { putOnPlan } from '../test/factories/subscriptions';

const LIFTED = '100000000/60';
const N = Number(process.env.BENCH_REQUESTS ?? 3000);

async function main() {
  const { app, databaseUrl, stop } = await startBenchApp({ RATE_LIMIT_LICENSE_VALIDATE: LIFTED, RATE_LIMIT_AUTHENTICATED: LIFTED });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const customer = await insertUser(db, { status: 'ACTIVE' });
  await app.get(PlansRepository).updatePreset('PREMIUM_MONTHLY', { rateLimitCount: 100_000_000, rateLimitWindowSeconds: 60 });
  await putOnPlan(app, db, customer.id, 'PREMIUM_MONTHLY');
  const apiKey = (await insertApiKey(db, { ownerId: customer.id, scope: 'read-only' })).key;
  const { accessToken } = await login(app, customer.email, customer.password);
  const guard = app.get(RouteGuard);
  const reply = { headers: () => reply, header: () => reply, getHeader: () => undefined, statusCode: 200 };
  const cases = [
    {
      name: 'validate (open)',
      controller: LicensesController,
      handler: 'validateLicense',
      method: 'POST',
      headers: {},
      body: { key: 'ABCDE-FGHJK-MNPQR-STVWX-YZ012' },
    },
    {
      name: 'getAll (API key, metered)',
      controller: IntegrationProductsController,
      handler: 'getAllProducts',
      method: 'GET',
      headers: { authorization: `Bearer ${apiKey}` },
    },
    {
      name: 'users/me (API key)',
      controller: UsersController,
      handler: 'getMe',
      method: 'GET',
      headers: { authorization: `Bearer ${apiKey}` },
    },
    {
      name: 'users/me (access token)',
      controller: UsersController,
      handler: 'getMe',
      method: 'GET',
      headers: { authorization: `Bearer ${accessToken}` },
    },
  ];
  for (const c of cases) {
    const handler = (c.controller.prototype as unknown as Record<string, object>)[c.handler]!;
    const route: GuardedRoute = {
      plan: planRoutes([{ controller: c.controller, name: c.handler, handler }])[0]!.plan,
      inputs: routeInputsOf(c.controller, c.handler),
    };
    const run = async () => {
      const request = { headers: { ...c.headers }, ip: '127.0.0.1', method: c.method, cookies: {}, body: c.body, query: {}, params: {}, id: 'r' };
      await guard.admit(route, request as never, reply as never);
    };
    for (let i = 0; i < 300; i++) await run();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await run();
    const used = process.cpuUsage(cpu);
    const wall = Number(process.hrtime.bigint() - start) / 1000 / N;
    process.stdout.write(
      `${c.name.padEnd(30)} ${((used.user + used.system) / N).toFixed(0).padStart(5)} µs CPU, ${wall.toFixed(0).padStart(5)} µs wall per request\n`,
    );
  }
  await db.end();
  await stop();
}
void main();
