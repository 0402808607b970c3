import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ipRateLimitKey } from './client-key';

describe('ipRateLimitKey', () => {
  it.each([
    ['127.0.0.1', 'ip:127.0.0.1'],
    ['203.0.113.255', 'ip:203.0.113.255'],
    ['::ffff:203.0.113.7', 'ip:203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', 'ip6:2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', 'ip6:2001:db8:1:2::/64'],
    ['not an address', 'ip:not an address'],
  ])('%s -> %s', (ip, key) => {
    expect(ipRateLimitKey(ip)).toBe(key);
  });

  it('keys every form ipaddr.js reads as one IPv4 address the same, fast path or not', () => {
    for (const ip of ['10.0.0.1', '010.0.0.1', '8.0.0.1', '0x0a.0.0.1', '1.2.3.4', '255.255.255.255', '0.0.0.0']) {
      expect(ipRateLimitKey(ip), ip).toBe(`ip:${ipaddr.process(ip).toString()}`);
    }
  });
});
