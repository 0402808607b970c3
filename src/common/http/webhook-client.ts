import type { LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { publicAddress } from './public-address';

export interface WebhookClientOptions {
  /** Lifts the global-unicast rule (local development and tests); never in production. */
  allowPrivateNetworks: boolean;
  /** The whole attempt: resolving, connecting, sending and reading the response. */
  timeoutMs: number;
  /** How much of the response body is kept; the rest is never read. */
  maxBodyBytes: number;
  /** DNS servers to ask (`host[:port]`) instead of the system's; tests point this at their own. */
  dnsServers?: string[];
}

export type AttemptFailureKind = 'ADDRESS_REFUSED' | 'TIMEOUT' | 'CONNECTION' | 'REDIRECT' | 'HTTP_STATUS' | 'INVALID_URL';

export interface AttemptResult {
  /** A 2xx answer, read within the time limit. */
  ok: boolean;
  /** The status received, kept when the body then timed out; null when no answer came. */
  status: number | null;
  durationMs: number;
  /** The first maxBodyBytes of the body as UTF-8 (a character cut at the limit is dropped). */
  body: string;
  /** From Retry-After, in seconds or an HTTP date, on any answer that carries it. */
  retryAfterSeconds: number | null;
  /**
   * Why the attempt did not succeed. `message` is shown to the endpoint's owner: it names the host,
   * never the path, query or headers, nor what our DNS answered. `detail` (the address refused) is
   * for our log only.
   */
  failure: null | { kind: AttemptFailureKind; message: string; detail?: string };
}

/** Every address a host resolves to; replaceable so tests can make a host resolve anywhere. */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

export interface WebhookClientDeps {
  resolveAll?: ResolveAll;
  /** For Retry-After's HTTP-date form. */
  now?: () => Date;
}

/** Each try of a DNS query waits this long for an answer, and a query is tried this often, then fails (ETIMEOUT). */
export const DNS_TRY_TIMEOUT_MS = 1_000;
export const DNS_TRIES = 2;
/** RFC 6761: `localhost` and `*.localhost` are loopback, whatever a DNS server says; nothing is asked. */
const LOOPBACK: LookupAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/**
 * Resolves through c-ares (A and AAAA queries), not `dns.lookup`: lookup runs getaddrinfo on
 * libuv's four-thread pool, with no timeout, so a few hung lookups would also stall password
 * hashing and file reads. c-ares doubles the wait on each try: a server that never answers fails
 * a name in about 4 s (ETIMEOUT).
 * The hosts file is not read: a webhook goes to a name the public DNS knows.
 */
export function dnsResolver(servers?: string[]): ResolveAll {
  const resolver = new Resolver({ timeout: DNS_TRY_TIMEOUT_MS, tries: DNS_TRIES });
  if (servers) resolver.setServers(servers);
  return async (hostname) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return LOOPBACK;
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (addresses.length > 0) return addresses;
    // A name with only one family answers ENODATA for the other: the other's error says more.
    const errors = [v4, v6].flatMap((result) => (result.status === 'rejected' ? [result.reason as NodeJS.ErrnoException] : []));
    throw errors.find((error) => error.code !== 'ENODATA') ?? errors[0] ?? Object.assign(new Error('no address'), { code: 'ENODATA' });
  };
}

/**
 * A kept-alive connection waits this long for the next attempt, under the 5 s most servers keep an
 * idle connection (Node's agent also honours a shorter `Keep-Alive: timeout` the server announces).
 */
export const IDLE_CONNECTION_MS = 4_000;
/** Connection pools kept, one per origin and checked address set; the least recently used is closed past this. */
const MAX_POOLS = 256;
/** Idle connections kept per pool: an endpoint has a few attempts in flight at once. */
const MAX_IDLE_PER_POOL = 8;

/**
 * An attempt in flight: what it got before a timeout cut it off, its request once made, and
 * whether the timeout ended it. Not an AbortController: its signal costs a listener on each
 * request, and this is the dispatcher's busiest path.
 */
type Progress = { status: number | null; request: ClientRequest | null; timedOut: boolean };
type Failure = NonNullable<AttemptResult['failure']>;
type Outcome = { status: number | null; body: string; retryAfterSeconds: number | null; failure: Failure | null };

const fail = (kind: AttemptFailureKind, message: string, status: number | null = null, detail?: string): Outcome => ({
  status,
  body: '',
  retryAfterSeconds: null,
  failure: detail === undefined ? { kind, message } : { kind, message, detail },
});

/**
 * One outbound webhook attempt over node:http(s), safe against SSRF: the host is resolved first,
 * every address it resolves to must be global unicast (unless private networks are allowed), and
 * the socket's own `lookup` then returns exactly those checked addresses, so a second DNS answer
 * (rebinding) is never asked for. TLS still verifies the certificate against the hostname.
 * Redirects are never followed, and global fetch is not used: it ignores a custom lookup.
 * Connections are kept alive per origin and checked address set (see poolFor), so a busy endpoint
 * is not paid a TCP (and TLS) handshake per attempt.
 */
export class WebhookClient {
  private readonly resolveAll: ResolveAll;
  private readonly now: () => Date;
  /** Kept-alive connections by origin and checked address set, least recently used first. */
  private readonly pools = new Map<string, HttpAgent>();

  constructor(
    private readonly options: WebhookClientOptions,
    deps: WebhookClientDeps = {},
  ) {
    this.resolveAll = deps.resolveAll ?? dnsResolver(options.dnsServers);
    this.now = deps.now ?? (() => new Date());
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const started = performance.now();
    const progress: Progress = { status: null, request: null, timedOut: false };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        // Destroys the request and its socket, wherever the attempt is; one not made yet never is.
        progress.timedOut = true;
        progress.request?.destroy();
        resolve(fail('TIMEOUT', `no complete answer within ${this.options.timeoutMs} ms`, progress.status));
      }, this.options.timeoutMs);
    });
    const attempt = this.attempt(url, headers, body, progress);
    const outcome = await Promise.race([attempt, timedOut]).finally(() => clearTimeout(timer));
    const durationMs = Math.round(performance.now() - started);
    return { ok: outcome.failure === null, durationMs, ...outcome };
  }

  /** Closes every kept-alive connection (at shutdown). */
  close(): void {
    for (const agent of this.pools.values()) agent.destroy();
    this.pools.clear();
  }

  private async attempt(url: string, headers: Record<string, string>, body: string, progress: Progress): Promise<Outcome> {
    const target = parseTarget(url);
    if ('failure' in target) return target.failure;
    const addresses = await this.addressesOf(target.hostname);
    if (!Array.isArray(addresses)) return addresses;
    if (progress.timedOut) return fail('TIMEOUT', 'aborted');
    const outcome = await this.post(target, addresses, headers, body, progress, this.poolFor(target, addresses));
    // A kept-alive connection the server closed as we reused it: nothing was answered, so the
    // attempt is made once more on a new connection (to the same checked addresses).
    if (outcome !== STALE_CONNECTION) return outcome;
    if (progress.timedOut) return fail('TIMEOUT', 'aborted');
    const again = await this.post(target, addresses, headers, body, progress, false);
    return again === STALE_CONNECTION ? fail('CONNECTION', `${target.hostname}: ECONNRESET`) : again;
  }

  private post(
    target: Extract<Target, { hostname: string }>,
    addresses: LookupAddress[],
    headers: Record<string, string>,
    body: string,
    progress: Progress,
    agent: HttpAgent | false,
  ): Promise<Outcome | typeof STALE_CONNECTION> {
    const requestOptions: RequestOptions = {
      method: 'POST',
      host: target.hostname,
      port: target.port,
      path: target.path,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinnedLookup(addresses),
      agent,
    };
    const send = target.https ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const request = send(requestOptions, (response) => {
        progress.status = response.statusCode ?? null;
        void this.read(response, request).then(resolve);
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (request.reusedSocket && progress.status === null && !progress.timedOut && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          resolve(STALE_CONNECTION);
        } else resolve(fail('CONNECTION', `${target.hostname}: ${error.code ?? error.message}`));
      });
      progress.request = request;
      request.end(body);
    });
  }

  /**
   * The pool of kept-alive connections for this origin and exactly these checked addresses: every
   * connection in it was opened to one of them, so a host that now resolves elsewhere gets a pool
   * (and connections) of its own, and a connection never outlives the check it was made under.
   */
  private poolFor(target: Extract<Target, { hostname: string }>, addresses: LookupAddress[]): HttpAgent {
    const key = `${target.https ? 'https' : 'http'}://${target.hostname}:${target.port} ${addresses.map(({ address }) => address).join(' ')}`;
    const pool = this.pools.get(key);
    if (pool) {
      // Most recently used last: the first is the one to close when there are too many.
      this.pools.delete(key);
      this.pools.set(key, pool);
      return pool;
    }
    const options = {
      keepAlive: true,
      maxFreeSockets: MAX_IDLE_PER_POOL,
      timeout: IDLE_CONNECTION_MS,
      scheduling: 'lifo' as const,
      lookup: pinnedLookup(addresses),
    };
    const created = target.https ? new HttpsAgent(options) : new HttpAgent(options);
    this.pools.set(key, created);
    if (this.pools.size > MAX_POOLS) {
      const [oldestKey, oldest] = this.pools.entries().next().value!;
      this.pools.delete(oldestKey);
      oldest.destroy();
    }
    return created;
  }

  /** The checked addresses, or the outcome that refuses them. */
  private async addressesOf(hostname: string): Promise<LookupAddress[] | Outcome> {
    const literal = isIP(hostname);
    let addresses: LookupAddress[];
    if (literal !== 0) addresses = [{ address: hostname, family: literal }];
    else {
      try {
        addresses = await this.resolveAll(hostname);
      } catch (error) {
        return fail('CONNECTION', `cannot resolve ${hostname}: ${(error as NodeJS.ErrnoException).code ?? 'lookup failed'}`);
      }
      if (addresses.length === 0) return fail('CONNECTION', `cannot resolve ${hostname}: no address`);
    }
    if (this.options.allowPrivateNetworks) return addresses;
    const refused = addresses.find(({ address }) => publicAddress(address) === null);
    // What our DNS answered would map the network this runs in for whoever owns the endpoint.
    if (refused) return fail('ADDRESS_REFUSED', 'address not allowed', null, `${hostname} resolves to ${refused.address}, which is not a public address`);
    return addresses;
  }

  private async read(response: IncomingMessage, request: ClientRequest): Promise<Outcome> {
    const status = response.statusCode ?? 0;
    const retryAfterSeconds = retryAfter(response.headers['retry-after'], this.now());
    const body = await readCapped(response, this.options.maxBodyBytes).catch(() => null);
    // A body read to its end leaves the connection to its pool; one cut at the limit is not wanted
    // any further, and its connection is closed.
    if (body === null || !response.complete) request.destroy();
    if (body === null) return { ...fail('CONNECTION', `the answer (HTTP ${status}) broke off`, status), retryAfterSeconds };
    const failure: Failure | null =
      status >= 200 && status < 300
        ? null
        : status >= 300 && status < 400
          ? { kind: 'REDIRECT', message: `HTTP ${status}: redirects are not followed` }
          : { kind: 'HTTP_STATUS', message: `HTTP ${status}` };
    return { status, body, retryAfterSeconds, failure };
  }
}

type Target = { hostname: string; port: number; path: string; https: boolean } | { failure: Outcome };

/** A reused connection failed before any answer: the attempt may be made again on a new one. */
const STALE_CONNECTION = Symbol('stale connection');

/** The socket's `lookup`: exactly the checked addresses, so a second DNS answer (rebinding) is never asked for. */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

function parseTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { failure: fail('INVALID_URL', 'not a URL') };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { failure: fail('INVALID_URL', `${parsed.protocol} is not http or https`) };
  if (parsed.username || parsed.password) return { failure: fail('INVALID_URL', 'a URL with credentials is refused') };
  const https = parsed.protocol === 'https:';
  return {
    // The URL parser has already turned 127.1, 0x7f000001 and 2130706433 into 127.0.0.1.
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : https ? 443 : 80,
    path: `${parsed.pathname}${parsed.search}`,
    https,
  };
}

/** Reads at most `limit` bytes, then stops the stream: a huge or endless body costs nothing more. */
function readCapped(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let size = 0;
    const finish = () => {
      response.removeAllListeners('data');
      resolve(text);
    };
    response.on('data', (chunk: Buffer) => {
      const kept = chunk.subarray(0, limit - size);
      size += kept.length;
      text += decoder.write(kept);
      if (size >= limit) {
        finish();
        response.destroy();
      }
    });
    response.on('end', finish);
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('aborted')));
  });
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function retryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at) || !/[a-z]/i.test(trimmed)) return null;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
