import ipaddr from 'ipaddr.js';

/**
 * The rate-limit identity of an IP: IPv4 as is, IPv6 by its /64 (one customer typically holds a
 * whole /64, so counting single addresses would let it rotate freely).
 */
export function ipRateLimitKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return `ip:${ip}`;
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return `ip:${parsed.toString()}`;
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `ip6:${parts.join(':')}::/64`;
}
