import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FORWARDED_FOR_WARNING } from '../../src/common/http/forwarded-for-warning';
import { useTestApp } from '../helpers/test-app';

const forwardedWarnings = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter(([message]) => message === FORWARDED_FOR_WARNING).length;

describe('a warning, logged once, when TRUST_PROXY is unset and requests arrive with X-Forwarded-For', () => {
  const ctx = useTestApp();
  afterEach(() => vi.restoreAllMocks());

  it('warns on the first forwarded request only, and not for direct ones', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const get = (headers: Record<string, string> = {}) => ctx.t.app.inject({ method: 'GET', url: '/health/live', headers });
    await get();
    expect(forwardedWarnings(warn)).toBe(0);
    for (let i = 0; i < 3; i++) expect((await get({ 'x-forwarded-for': '203.0.113.9' })).statusCode).toBe(200);
    expect(forwardedWarnings(warn)).toBe(1);
  });
});

describe('no such warning when TRUST_PROXY is set', () => {
  const ctx = useTestApp({ env: { TRUST_PROXY: '10.0.0.0/8' } });

  it('stays quiet', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    await ctx.t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '10.0.0.1' });
    expect(forwardedWarnings(warn)).toBe(0);
    warn.mockRestore();
  });
});
