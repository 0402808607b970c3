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
  return address.range() === 'unicast' ? address.toString() : null;
}
