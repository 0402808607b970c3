import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED_PATHS } from './pino-logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } }, stream), lines };
}

describe('log redaction', () => {
  it('censors credential headers on requests and responses', () => {
    const { logger, lines } = capture();
    logger.info({
      req: { headers: { authorization: 'Bearer abc', cookie: 'gatehouse_auth=xyz', 'x-api-key': 'gate_live_k', accept: '*/*' } },
      res: { headers: { 'set-cookie': 'gatehouse_auth=xyz' } },
    });
    const entry = JSON.parse(lines[0]!);
    expect(entry.req.headers).toEqual({ authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-api-key': '[REDACTED]', accept: '*/*' });
    expect(entry.res.headers['set-cookie']).toBe('[REDACTED]');
  });

  it('censors password, token, secret and key fields at any of the first three levels', () => {
    const { logger, lines } = capture();
    logger.info({
      password: 'p1',
      user: { password: 'p2', email: 'a@example.com' },
      body: { credentials: { token: 't1', secret: 's1', key: 'k1' } },
      refreshToken: 'r1',
    });
    const text = lines[0]!;
    for (const secret of ['p1', 'p2', 't1', 's1', 'k1', 'r1']) expect(text).not.toContain(`"${secret}"`);
    expect(JSON.parse(text).user.email).toBe('a@example.com');
  });

  it('censors a webhook signing secret in a logged request or response body', () => {
    const { logger, lines } = capture();
    logger.info({ req: { body: { secret: 'whsec_in_request' } }, res: { body: { secret: 'whsec_in_response', url: 'https://hooks.example.com' } } });
    expect(lines[0]).not.toContain('whsec_');
    expect(JSON.parse(lines[0]!).res.body).toEqual({ secret: '[REDACTED]', url: 'https://hooks.example.com' });
  });
});
