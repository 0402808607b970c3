import { describe, expect, it } from 'vitest';
import { publicAddress } from './public-address';

describe('publicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.2',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '198.18.0.1',
    'fc00::1',
    'fe80::1',
    'fe80::1%eth0',
    '2002:7f00:1::1',
    '64:ff9b::7f00:1',
    '2001::1',
    'fec0::1',
    '64:ff9b:1::a00:1',
    '::127.0.0.1',
    'localhost',
    'not-an-ip',
    '',
  ])('refuses %s', (ip) => {
    expect(publicAddress(ip)).toBeNull();
  });

  it('keeps global unicast addresses, an IPv4-mapped one as its IPv4 form', () => {
    expect(publicAddress('8.8.8.8')).toBe('8.8.8.8');
    expect(publicAddress('::ffff:8.8.8.8')).toBe('8.8.8.8');
    expect(publicAddress('2001:4860:4860::8888')).toBe('2001:4860:4860::8888');
  });
});
