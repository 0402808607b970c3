import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The address in its plain form if it is global unicast, else null: loopback, private, link-local,
 * CGNAT, multicast, reserved, documentation, unspecified and the IPv6 forms that embed an IPv4
 * address (6to4, Teredo, NAT64) are all refused, and an IPv4-mapped IPv6 address is judged as the
 * IPv4 address it is. Not an IP at all: null. Outbound requests (webhooks) may only reach these,
 * and only these have a place in the geographic data.
 */
export function publicAddress(ip: string): string | null {
  if (isIP(ip) === 0) return null;
  const address = ipaddr.process(ip.replace(/%.*$/, ''));
  if (address.range() !== 'unicast') return null;
  // IPv6 global unicast is 2000::/3; ipaddr.js also calls site-local (fec0::/10), local-use NAT64
  // (64:ff9b:1::/48) and IPv4-compatible (::a.b.c.d) addresses unicast.
  if (address.kind() === 'ipv6' && !(address as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return null;
  return address.toString();
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
