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
