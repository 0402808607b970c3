import { beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, GatehouseClient } from '../../packages/sdk/src/index';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/** Access tokens live two seconds here, so the SDK meets ACCESS_TOKEN_EXPIRED for real (one second can end within milliseconds: expiry is in whole seconds). */
describe('@gatehouse/sdk login keeps and refreshes the tokens', () => {
  const ctx = useTestApp({ env: { ACCESS_TOKEN_TTL: '2' } });
  let baseUrl: string;
  beforeAll(async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await ctx.t.app.getUrl();
  });

  const waitForExpiry = () => new Promise((resolve) => setTimeout(resolve, 3100));

  it('an expired access token is refreshed once (refresh token in the body), and the call is sent again; parallel calls share the refresh', async () => {
    const user = await insertUser(ctx.db);
    const sent: string[] = [];
    const client = new GatehouseClient({
      baseUrl,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        sent.push(`${init?.method} ${new URL(input instanceof Request ? input.url : input).pathname} ${response.status}`);
        return response;
      },
    });
    await client.auth.login({ email: user.email, password: user.password });
    await waitForExpiry();

    const results = await Promise.all([client.users.me(), client.users.me(), client.users.me()]);

    expect(results.map((result) => result.user.id)).toEqual([user.id, user.id, user.id]);
    expect(sent.filter((line) => line.startsWith('POST /v1/auth/refresh'))).toEqual(['POST /v1/auth/refresh 200']);
    expect(sent.filter((line) => line.endsWith(' 401'))).toHaveLength(3);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1', [user.id])).rows[0].n).toBe(2);
  });

  it('a token given in the options, without a refresh token, is not refreshed: the 401 is thrown', async () => {
    const user = await insertUser(ctx.db);
    const session = await new GatehouseClient({ baseUrl }).auth.login({ email: user.email, password: user.password });
    await waitForExpiry();
    const error = await new GatehouseClient({ baseUrl, accessToken: session.accessToken!.token }).users.me().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'ACCESS_TOKEN_EXPIRED' });
  });
});
