import { isIP } from 'node:net';
import { publicAddress } from '../../common/http/public-address';

/** What the deployment lets endpoint URLs reach: config.webhooks. */
export interface WebhookUrlPolicy {
  allowInsecure: boolean;
  allowPrivateNetworks: boolean;
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

const MIN_HIGH_PORT = 8000;

/**
 * The one rule for where a webhook may go, checked when an endpoint is saved and again by the
 * delivery before it connects. Only what the URL itself says is judged here: a host written as an
 * IP address (in any form the WHATWG parser accepts: 127.1, 0x7f000001, 2130706433,
 * [::ffff:127.0.0.1] all become loopback) must be a public one. Host names are not resolved: the
 * delivery checks the addresses they resolve to when it connects (webhookAddressAllowed), since
 * an answer now says nothing about the answer then.
 */
export function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'Not a valid absolute URL' };
  }
  if (url.protocol !== 'https:' && !(policy.allowInsecure && url.protocol === 'http:')) {
    return { ok: false, reason: policy.allowInsecure ? 'Must be an https:// or http:// URL' : 'Must be an https:// URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'Must not carry credentials (user:password@)' };
  // An empty port is the scheme's default (443 or 80); the parser drops an explicit default port.
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (port !== 443 && port !== 80 && port < MIN_HIGH_PORT) return { ok: false, reason: `Port ${port} is not allowed: use 443, 80 or 8000-65535` };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !webhookAddressAllowed(host, policy)) {
    return { ok: false, reason: `${url.hostname} is not a public address (loopback, private, link-local, CGNAT, multicast or reserved)` };
  }
  if (isLocalhostName(host) && !policy.allowPrivateNetworks) return { ok: false, reason: `${url.hostname} is a loopback name` };
  return { ok: true, url };
}

/** Whether a resolved (or literal) address may be connected to: public, unless the policy lifts the check. */
export function webhookAddressAllowed(address: string, policy: Pick<WebhookUrlPolicy, 'allowPrivateNetworks'>): boolean {
  return policy.allowPrivateNetworks || publicAddress(address) !== null;
}

/** RFC 6761: `localhost` and `*.localhost` always mean loopback, so they are refused without a lookup. */
const isLocalhostName = (host: string) => {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
};
