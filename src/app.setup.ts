import cookie from '@fastify/cookie';
import { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest, LogController } from 'fastify';
import { DiscoveryService, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { DestinationStream, Logger as Pino } from 'pino';
import { AppModule, AppModuleOptions } from './app.module';
import { RouteGuard } from './common/auth/route.guard';
import { DomainError } from './common/errors/domain-error';
import { ProblemWriter } from './common/errors/problem-writer';
import { storeIdempotentResponses } from './common/idempotency/idempotency.replay';
import { IdempotencyService } from './common/idempotency/idempotency.service';
import { keepsRawBody } from './common/http/raw-body.decorator';
import { answerWrongMethods } from './common/http/route-table';
import { I18nService } from './common/i18n/i18n.service';
import { buildOpenApiDocument, withServedBaseUrl } from './openapi';
import { requestIdFor } from './common/logging/request-id';
import { logEachResponse } from './common/logging/access-log';
import { createPino, PinoLoggerService } from './common/logging/pino-logger';
import { warnOnUntrustedForwardedFor } from './common/http/forwarded-for-warning';
import { DeferredSerializers, serializeResponsesBySchema } from './common/http/response-schemas';
import { RouteExecutor } from './common/routing/route-executor';
import { setSecurityHeaders } from './common/http/security-headers';
import { refuseQueriesNoHandlerDeclares } from './common/validation/undeclared-query';
import { AppConfig } from './config/config';
import { migrateDatabase } from './db/migrate';

export interface AppOptions extends AppModuleOptions {
  /** Where log lines go: stdout by default; tests capture them. */
  logDestination?: DestinationStream;
}

/** Creates the Fastify adapter and the Nest app; main.ts, scripts and every e2e test come through here. */
export async function createApp(options: AppOptions): Promise<NestFastifyApplication> {
  const { config } = options;
  // One pino instance: Fastify's logger, and (through the adapter below) Nest's.
  const logger = createPino(config.logLevel, options.logDestination);
  // Fastify takes frameworkErrors before Nest's container exists; the writer needs only the
  // translations and the config, so this one is built by hand (the container has its own).
  const problems = new ProblemWriter(new I18nService(), config);
  if (options.migrate) await migrateDatabase(options.databaseUrl, config.database.connectTimeoutMs);
  const serializers = new DeferredSerializers();
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // Each route's response serializer is compiled on its first answer or just after start-up.
    schemaController: { compilersFactory: { buildSerializer: serializers.factory } },
    // A client trickling its headers or body (slowloris) is cut off after requestTimeout, and an
    // idle socket after connectionTimeout. Node checks the request timeouts every
    // connectionsCheckingInterval (30 s by default), which would stretch a short timeout.
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    http: {
      headersTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, config.http.requestTimeoutMs),
    },
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    requestIdHeader: false,
    genReqId: requestIdFor,
    loggerInstance: logger,
    // Fastify's own per-request lines log the whole request; logEachResponse writes a compact one.
    logController: new LogController({ disableRequestLogging: true }),
    // A per-request child would serialize its bindings on every request; the access line names
    // the request itself.
    childLoggerFactory: (parent: FastifyBaseLogger) => parent,
    // No Express-style middleware is used, so @fastify/middie's per-request hook is not registered.
    skipMiddie: true,
    // Fastify's default (100) answers a longer parameter with a bare 400 before the guards run. No
    // parameter can outgrow the request line Node accepts (16 KiB of headers), so the router takes
    // them all, and the schemas refuse a wrong one (422) after authentication, as any other input.
    routerOptions: { maxParamLength: 16_384 },
    // While draining, requests on kept-alive connections are served rather than answered with
    // Fastify's own (non-problem+json) 503; the pool stays open until the server has closed.
    return503OnClosing: false,
    // Errors Fastify raises before routing (a malformed URL such as /%) get problem+json too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => problems.send(error, request, reply),
    // And those Node raises before a request exists (headers over 16 KiB, a request never finished).
    clientErrorHandler: (error, socket) => problems.writeClientError(error, socket),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    // Nest's parsers would add urlencoded forms; only JSON bodies are accepted (see configureApp).
    bodyParser: false,
    logger: new PinoLoggerService(logger),
  });
  serializers.belongTo(app);
  await configureApp(app, config, logger);
  return app;
}

/**
 * Everything about the HTTP pipeline that is not a module: logger, body parsing, security headers,
 * CORS and the docs. Kept in one function so tests run exactly the production pipeline.
 */
export async function configureApp(app: NestFastifyApplication, config: AppConfig, logger: Pino): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  // Before the routes are registered (app.init): each route's serializer and inputs, then the
  // handler that serves it (the route guard, the inputs, the controller method), compiled once.
  serializeResponsesBySchema(app);
  refuseQueriesNoHandlerDeclares(app);
  new RouteExecutor(app.get(RouteGuard), app.get(ProblemWriter), app.get(DiscoveryService)).install(app, fastify);
  logEachResponse(fastify, logger);
  // Lines still buffered by the asynchronous destination are written before the app is gone (and
  // within a second on a quiet server: createPino).
  fastify.addHook('onClose', (_instance, done) => logger.flush(() => done()));
  // Fastify parses text/plain by default. A text/plain body must be refused (415), not handed to
  // handlers: browsers send it cross-origin without a preflight, which makes it a CSRF vector.
  fastify.removeContentTypeParser('text/plain');
  // Nest turns Fastify's own parse errors into bare 400s; ours names the problem.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (keepsRawBody(request)) request.rawBody = body as string;
    void parseJson(request, body as string, (error, value) => done(error ? new DomainError('MALFORMED_JSON', { cause: error }) : null, value));
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  if (config.trustProxy.length === 0) warnOnUntrustedForwardedFor(fastify);
  storeIdempotentResponses(fastify, app.get(IdempotencyService));

  await app.register(cookie);
  setSecurityHeaders(fastify, config);
  app.enableCors({
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    credentials: true,
    exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'allow'],
  });
  // After CORS and the security headers, so a 405 carries them too.
  answerWrongMethods(fastify, app.get(ProblemWriter));

  SwaggerModule.setup('docs', app, () => withServedBaseUrl(buildOpenApiDocument(app), config.publicBaseUrl), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Gatehouse API',
    // Swagger UI fetches the spec from /openapi.json (cached by the browser, one copy) instead of
    // carrying all of it inlined in swagger-ui-init.js, which made that script about 900 KB.
    swaggerUrl: '/openapi.json',
    patchDocumentOnRequest: withoutInlinedSpec,
  });
}

/**
 * @nestjs/swagger asks this for the document of both /openapi.json and the UI's init script. The
 * script inlines what it gets; given none it loads `swaggerUrl` instead. (The typing wants a
 * document, but an absent one is exactly what its script builder handles.)
 */
const withoutInlinedSpec = <TRequest>(request: TRequest, _reply: unknown, document: OpenAPIObject): OpenAPIObject =>
  (request as FastifyRequest).url.split('?')[0]?.endsWith('/swagger-ui-init.js') ? (undefined as unknown as OpenAPIObject) : document;
