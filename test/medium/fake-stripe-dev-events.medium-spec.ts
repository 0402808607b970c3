import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_EVENTS_PATH, FakeStripe } from '../../scripts/stripe-dev/fake-stripe';

describe("npm run stripe:dev: the fake's control route takes JSON only", () => {
  const fake = new FakeStripe();
  let url: string;
  beforeAll(async () => (url = await fake.start()));
  afterAll(() => fake.stop());

  it('a form or text post (what a web page can send without a CORS preflight) is 415, and pays nothing', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const answer = await fetch(`${url}${DEV_EVENTS_PATH}`, {
        method: 'POST',
        headers: contentType ? { 'content-type': contentType } : {},
        body: JSON.stringify({ type: 'checkout.session.completed', session: 'cs_x', forwardTo: 'http://127.0.0.1:1/x' }),
      });
      expect(answer.status).toBe(415);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('JSON reaches the route (here: a session it never made is refused by the route itself)', async () => {
    const answer = await fetch(`${url}${DEV_EVENTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'checkout.session.completed', session: 'cs_never_made', forwardTo: 'http://127.0.0.1:1/x' }),
    });
    expect(answer.status).not.toBe(415);
    expect(answer.status).toBeGreaterThanOrEqual(400);
  });
});
