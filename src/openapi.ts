import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { IntegrationProblemDto, ProblemDetailsDto } from './common/errors/problem.schemas';
import { ErrorCode } from './common/errors/error-catalog';
import { addReplayedHeaderComponent, documentIdempotency } from './common/idempotency/idempotent.decorator';
import { problemCodesOf, problemResponse } from './common/openapi/api-problems.decorator';
import { applyIntegrationResponses } from './common/openapi/integration-responses';
import { I18nService } from './common/i18n/i18n.service';
import { expandExactlyOneOf } from './common/openapi/exactly-one-of';
import { DocumentedOperation, operationsOf } from './common/openapi/documented-operation';
import { EXAMPLE_BASE_URL, ProblemExamples } from './common/openapi/problem-examples';
import { SchemaNames } from './common/openapi/schema-names';
import { SECURITY } from './common/openapi/security-schemes';

export { SECURITY };
/** The login cookie under the defaults (COOKIE_SECURE=true); plain `gatehouse_auth` over http. */
export const AUTH_COOKIE_NAME = '__Host-gatehouse_auth';

/**
 * Swagger UI cannot see an HttpOnly cookie, so its padlocks stay open while the cookie works;
 * the scheme's description says so where a developer looks (the Authorize dialog).
 */
const COOKIE_AUTH_DESCRIPTION =
  'The HttpOnly cookie that POST /v1/auth/login sets, for browser apps (named gatehouse_auth when ' +
  'COOKIE_SECURE=false). In this page: log in with ' +
  '"Try it out" on POST /v1/auth/login and your browser sends the cookie with every later request, ' +
  'so authenticated operations work although the padlocks still show "unlocked": Swagger UI ' +
  'cannot read an HttpOnly cookie and there is nothing to enter here. POST, PUT, PATCH and DELETE ' +
  "authenticated by the cookie must come from this server's own origin, PUBLIC_BASE_URL or CORS_ORIGINS.";

/**
 * Builds the OpenAPI document from the app's controllers and zod DTOs. The running app serves it
 * and `npm run openapi` writes it to openapi/openapi.json; it must not depend on configuration,
 * so the committed file and the served one are equal everywhere.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Gatehouse API')
    .setDescription(
      'Sell and control access to software and APIs. Every error is an RFC 9457 problem+json ' +
        'document with a machine `code`; messages follow Accept-Language (en, tr, ar).',
    )
    .setVersion('1.0.0')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from POST /v1/auth/login.' }, SECURITY.bearer)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'An API key such as gate_live_… sent as a bearer token.' },
      SECURITY.apiKey,
    )
    .addCookieAuth(AUTH_COOKIE_NAME, { type: 'apiKey', in: 'cookie', description: COOKIE_AUTH_DESCRIPTION }, SECURITY.cookie)
    // Deny by default, in the docs as in the route guard: an operation needs one of the three
    // credentials unless it is marked @Public(), which writes `security: []` on it.
    .addSecurityRequirements(SECURITY.bearer)
    .addSecurityRequirements(SECURITY.apiKey)
    .addSecurityRequirements(SECURITY.cookie)
    .build();

  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
    extraModels: [ProblemDetailsDto, IntegrationProblemDto],
  });
  document.info.license = { name: 'Proprietary' };
  const cleaned = cleanupOpenApiDoc(document);
  const i18n = app.get(I18nService);
  const examples = new ProblemExamples();
  addReplayedHeaderComponent(cleaned);
  const names = new SchemaNames(cleaned);
  // One pass over the operations, each step on what the previous ones wrote: the integration
  // operations' own error bodies come after the shared ones, so nothing may overwrite them, and
  // schema names are settled last, once the operation's responses point at the schemas they use.
  for (const [path, operation] of operationsOf(cleaned)) {
    addSharedProblemResponses(operation);
    documentIdempotency(operation);
    examples.describe(operation);
    applyIntegrationResponses(path, operation, i18n);
    names.settle(operation);
  }
  examples.writeComponents(cleaned);
  names.writeComponents(cleaned);
  return expandExactlyOneOf(cleaned);
}

/**
 * The document as a running server serves it: its examples' problem `type` URIs under that
 * server's PUBLIC_BASE_URL (`PORT=3310 npm start` shows http://localhost:3310/problems/…), where
 * the committed spec has EXAMPLE_BASE_URL. The shape is the committed one.
 */
export function withServedBaseUrl(document: OpenAPIObject, publicBaseUrl: string): OpenAPIObject {
  if (publicBaseUrl === EXAMPLE_BASE_URL) return document;
  return JSON.parse(JSON.stringify(document).replaceAll(`"${EXAMPLE_BASE_URL}/`, `"${publicBaseUrl}/`)) as OpenAPIObject;
}

/** A route's own documented codes for a status, plus the shared ones, in one response. */
function mergeProblemResponse(existing: unknown, codes: ErrorCode[]) {
  return problemResponse([...new Set([...problemCodesOf(existing), ...codes])]);
}

/**
 * The errors the pipeline outside the route guard can give any operation, derived from what the
 * operation accepts. The guard's own (401, 403, 429, 503, quota headers) are written by each
 * route's @Public() / @Authenticated().
 */
function addSharedProblemResponses(operation: DocumentedOperation): void {
  const shared = new Map<string, ErrorCode[]>();
  const add = (status: string, ...codes: ErrorCode[]) => shared.set(status, [...(shared.get(status) ?? []), ...codes]);
  if (operation.requestBody) {
    add('400', 'MALFORMED_JSON');
    add('413', 'PAYLOAD_TOO_LARGE');
    add('415', 'UNSUPPORTED_MEDIA_TYPE');
  }
  // Unknown query parameters are refused on every operation, as unknown body fields are.
  add('422', 'VALIDATION_FAILED');
  // The HTTP server refuses a request line and headers over 16 KiB before any route runs.
  add('431', 'HEADERS_TOO_LARGE');
  add('500', 'INTERNAL');
  for (const [status, codes] of shared) operation.responses[status] = mergeProblemResponse(operation.responses[status], codes);
}
