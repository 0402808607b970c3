import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error';
import { ProblemWriter } from '../errors/problem-writer';

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

type Segment = { kind: 'static'; text: string } | { kind: 'param' } | { kind: 'wildcard' };
// At a position, a literal segment beats a parameter, which beats a wildcard, as in Fastify's router.
const RANK = { static: 0, param: 1, wildcard: 2 } as const;

interface Resource {
  segments: Segment[];
  methods: Set<string>;
  /** A route of this path answers in the integration docs' error format, so its 405 does too. */
  integrationErrors: boolean;
}

function parsePattern(url: string): Segment[] {
  return url
    .split('/')
    .slice(1)
    .map((part): Segment => (part === '*' ? { kind: 'wildcard' } : part.startsWith(':') ? { kind: 'param' } : { kind: 'static', text: part }));
}

const shapeOf = (segments: Segment[]) =>
  segments.map((segment) => (segment.kind === 'static' ? `/${segment.text}` : segment.kind === 'param' ? '/:' : '/*')).join('');

function matches(segments: Segment[], parts: string[]): boolean {
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === 'wildcard') return true;
    const part = parts[index];
    if (part === undefined || part === '') return false;
    if (segment.kind === 'static' && segment.text !== part) return false;
  }
  return segments.length === parts.length;
}

/** Negative when `a` is the more specific pattern: compared position by position. */
function compareSpecificity(a: Segment[], b: Segment[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const left = a[index];
    const right = b[index];
    if (!left || !right) return left ? -1 : 1;
    const difference = RANK[left.kind] - RANK[right.kind];
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Which methods a path supports, from the routes Fastify registered. A path belongs to its most
 * specific pattern, so `/v1/licenses/validate` is the validate resource (POST) and never an id
 * under `/v1/licenses/:id`, whatever method asks for it.
 */
export class RouteTable {
  private readonly resources = new Map<string, Resource>();

  add(methods: string | string[], url: string, integrationErrors = false): void {
    const segments = parsePattern(url);
    const shape = shapeOf(segments);
    const resource = this.resources.get(shape) ?? { segments, methods: new Set<string>(), integrationErrors: false };
    for (const method of [methods].flat()) resource.methods.add(method.toUpperCase());
    resource.integrationErrors ||= integrationErrors;
    this.resources.set(shape, resource);
  }

  /** The methods of the resource the path names, or undefined when no route matches it at all. */
  allowedMethods(path: string): { methods: string[]; integrationErrors: boolean } | undefined {
    const parts = path.split('/').slice(1);
    let best: Resource | undefined;
    for (const resource of this.resources.values()) {
      if (!matches(resource.segments, parts)) continue;
      if (!best || compareSpecificity(resource.segments, best.segments) < 0) best = resource;
    }
    if (!best) return undefined;
    const methods = best.methods.has('GET') ? new Set([...best.methods, 'HEAD']) : best.methods;
    return { methods: [...methods].sort((a, b) => rank(a) - rank(b)), integrationErrors: best.integrationErrors };
  }
}

const rank = (method: string) => (METHOD_ORDER.includes(method) ? METHOD_ORDER.indexOf(method) : METHOD_ORDER.length);

/**
 * Answers a known path asked with a method it does not support with 405 and `Allow`, before the
 * rate limit and authentication: the route table is public (it is the OpenAPI document), and
 * a method that cannot succeed should not cost the caller a credential check or a rate-limit token.
 * OPTIONS is left to the CORS plugin, which answers preflights on every path.
 */
export function answerWrongMethods(fastify: FastifyInstance, problems: ProblemWriter): void {
  const table = new RouteTable();
  fastify.addHook('onRoute', (route) => {
    const methods = [route.method].flat().filter((method) => method !== 'OPTIONS');
    const integration = route.config?.gatehouseIntegrationErrors === true;
    if (methods.length > 0) table.add(methods, route.url, integration);
  });
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (request.method === 'OPTIONS') return done();
    // A request routed to a pattern without parameters (license validation, access checks) is
    // exactly where it belongs: only unrouted requests and `:param` matches need the table.
    const matched = request.routeOptions.url;
    if (matched !== undefined && !matched.includes(':') && !matched.includes('*')) return done();
    const allowed = table.allowedMethods(request.url.split('?')[0] ?? '/');
    if (!allowed || allowed.methods.includes(request.method)) return done();
    const error = new DomainError('METHOD_NOT_ALLOWED', { headers: { allow: allowed.methods.join(', ') } });
    // Answered here: the chain stops, as an async hook stops it by returning the reply.
    problems.send(error, request, reply, { integrationErrors: allowed.integrationErrors });
  });
}
