import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, webhookAddressAllowed } from './webhook-url';

const STRICT = { allowInsecure: false, allowPrivateNetworks: false };
const reasonOf = (url: string, policy = STRICT) => {
  const check = checkWebhookUrl(url, policy);
  return check.ok ? undefined : check.reason;
};

describe('checkWebhookUrl', () => {
  it.each([
    'https://hooks.example.com/gatehouse',
    'https://hooks.example.com:8443/x?y=1',
    'https://hooks.example.com:443/',
    'https://93.184.215.14/hook',
    'https://[2606:4700::1111]/hook',
  ])('accepts %s', (url) => {
    expect(checkWebhookUrl(url, STRICT)).toMatchObject({ ok: true });
  });

  it('refuses what is not an absolute URL', () => {
    expect(reasonOf('hooks.example.com/x')).toMatch(/Not a valid absolute URL/);
    expect(reasonOf('')).toMatch(/Not a valid absolute URL/);
  });

  it('refuses http:// unless insecure URLs are allowed, and other schemes always', () => {
    expect(reasonOf('http://hooks.example.com/x')).toBe('Must be an https:// URL');
    expect(checkWebhookUrl('http://hooks.example.com/x', { ...STRICT, allowInsecure: true })).toMatchObject({ ok: true });
    expect(reasonOf('ftp://hooks.example.com/x', { ...STRICT, allowInsecure: true })).toBe('Must be an https:// or http:// URL');
    expect(reasonOf('file:///etc/passwd')).toBe('Must be an https:// URL');
  });

  it('refuses credentials in the URL', () => {
    expect(reasonOf('https://user:pass@hooks.example.com/x')).toMatch(/credentials/);
    expect(reasonOf('https://user@hooks.example.com/x')).toMatch(/credentials/);
  });

  it.each([
    ['https://hooks.example.com:22/', 22],
    ['https://hooks.example.com:25/', 25],
    ['https://hooks.example.com:6379/', 6379],
    ['https://hooks.example.com:7999/', 7999],
    ['https://hooks.example.com:1/', 1],
  ])('refuses %s (port %i)', (url, port) => {
    expect(reasonOf(url)).toBe(`Port ${port} is not allowed: use 443, 80 or 8000-65535`);
  });

  it('accepts ports 443, 80 and 8000-65535', () => {
    const insecure = { ...STRICT, allowInsecure: true };
    for (const url of [
      'https://h.example.com:80/',
      'http://h.example.com/',
      'http://h.example.com:443/',
      'https://h.example.com:8000/',
      'https://h.example.com:65535/',
    ]) {
      expect(checkWebhookUrl(url, insecure), url).toMatchObject({ ok: true });
    }
  });

  it.each([
    // Loopback, in every spelling the URL parser normalises to 127.0.0.1 or ::1.
    'https://127.0.0.1/',
    'https://127.1/',
    'https://0x7f000001/',
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    // Private, link-local (cloud metadata), CGNAT, unspecified, multicast, reserved.
    'https://10.0.0.1/',
    'https://192.168.1.1/',
    'https://172.16.0.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://100.64.0.1/',
    'https://0.0.0.0/',
    'https://224.0.0.1/',
    'https://240.0.0.1/',
    'https://[fc00::1]/',
    'https://[fe80::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:169.254.169.254]/',
  ])('refuses the non-public address %s', (url) => {
    expect(reasonOf(url)).toMatch(/is not a public address/);
  });

  it('refuses localhost names without resolving them', () => {
    expect(reasonOf('https://localhost:8443/')).toMatch(/loopback name/);
    expect(reasonOf('https://api.LOCALHOST./')).toMatch(/loopback name/);
  });

  it('lets WEBHOOKS_ALLOW_PRIVATE_NETWORKS lift the address checks, and only those', () => {
    const tests = { allowInsecure: true, allowPrivateNetworks: true };
    for (const url of ['http://127.0.0.1:8080/', 'http://[::1]:9000/', 'http://10.0.0.1/', 'http://localhost:8000/']) {
      expect(checkWebhookUrl(url, tests), url).toMatchObject({ ok: true });
    }
    expect(reasonOf('http://127.0.0.1:22/', tests)).toMatch(/Port 22/);
    expect(reasonOf('http://u:p@127.0.0.1/', tests)).toMatch(/credentials/);
  });

  it('does not resolve host names: a name is judged when the delivery connects', () => {
    expect(checkWebhookUrl('https://resolves-to-loopback.example.com/', STRICT)).toMatchObject({ ok: true });
  });
});

describe('webhookAddressAllowed', () => {
  it('allows public addresses only, unless private networks are allowed', () => {
    expect(webhookAddressAllowed('93.184.215.14', STRICT)).toBe(true);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '169.254.169.254', '100.64.0.1', '10.0.0.1', 'not-an-ip']) {
      expect(webhookAddressAllowed(address, STRICT), address).toBe(false);
    }
    expect(webhookAddressAllowed('127.0.0.1', { allowPrivateNetworks: true })).toBe(true);
  });
});
