import ipaddr from 'ipaddr.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Dotted decimal without leading zeros: what ipaddr.js would print for it, unchanged. */
const CANONICAL_IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * The rate-limit identity of an IP: IPv4 as is, IPv6 by its /64 (one customer typically holds a
 * whole /64, so counting single addresses would let it rotate freely).
 */
export function ipRateLimitKey(ip: string): string {
  // The socket's (or the trusted proxy's) address is canonical IPv4 nearly always: it is its own
  // key, without parsing it twice on every request.
  if (CANONICAL_IPV4.test(ip)) return `ip:${ip}`;
  if (!ipaddr.isValid(ip)) return `ip:${ip}`;
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return `ip:${parsed.toString()}`;
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `ip6:${parts.join(':')}::/64`;
}
