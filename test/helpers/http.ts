import { NestFastifyApplication } from '@nestjs/platform-fastify';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** `call(method, url, bearer, payload?)`: a JSON request authenticated by a bearer token or API key. */
export function bearerCaller(app: NestFastifyApplication) {
  return (method: Method, url: string, bearer: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${bearer}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
}

export type BearerCall = ReturnType<typeof bearerCaller>;

/**
 * `bearerCaller` for a file's `useTestApp` context, made before its app exists: each call reads
 * `ctx.t.app` when it runs. `const call = callerFor(ctx);` at the top of a `describe`.
 */
export function callerFor(ctx: { t: { app: NestFastifyApplication } }): BearerCall {
  return (...args) => bearerCaller(ctx.t.app)(...args);
}
