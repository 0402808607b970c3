import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig } from '../../config/config';
import { I18nService } from '../i18n/i18n.service';
import { Language, requestLanguage } from '../i18n/language';
import { classifyError } from './classify-error';
import { DomainError, FieldIssue } from './domain-error';
import { ERROR_CATALOG, problemSlug } from './error-catalog';
import { toIntegrationProblem, usesIntegrationErrors } from './integration-problem-writer';
import { declaredParams, ProblemMembers } from './problem-params';
import type { ProblemDetails } from './problem.schemas';
import { safeErrorForLog } from './safe-error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Writes any error as RFC 9457 problem+json. Used by the global exception filter and by Fastify's
 * own error hooks (malformed URLs), so every non-2xx answer has the same shape, except on the
 * routes marked @IntegrationErrors(), which get the integration docs' format.
 */
@Injectable()
export class ProblemWriter {
  private readonly logger = new Logger('Errors');

  constructor(
    private readonly i18n: I18nService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** `integrationErrors` forces the integration format where the route is not known (a 405). */
  send(exception: unknown, request: FastifyRequest, reply: FastifyReply, options: { integrationErrors?: boolean } = {}): void {
    const error = classifyError(exception, { bodyLimitBytes: this.config.bodyLimitBytes });
    const status = ERROR_CATALOG[error.code].status;
    if (status >= 500 || error.code === 'UPSTREAM_FAILED') {
      this.logger.error({ err: safeErrorForLog(exception), code: error.code, requestId: request.id }, 'Request failed');
    } else if (exception !== error) {
      // A client error we did not raise ourselves (e.g. a database cast error) may hide a missing check.
      // Not under `err`: pino's serializer for that key would add a stack, and a 4xx stack is noise.
      this.logger.warn({ rejection: safeErrorForLog(exception, 0, false), code: error.code, requestId: request.id }, 'Request rejected');
    }
    if (reply.sent) return;

    const lang = requestLanguage(request);
    const params = declaredParams(error.code, error.options.params);
    if (!params) this.logger.error({ code: error.code, requestId: request.id }, 'Problem params do not match what the code declares');
    const problem = this.toProblem(error, params ?? {}, request, lang);
    const answer =
      options.integrationErrors || usesIntegrationErrors(request)
        ? toIntegrationProblem(problem, this.config.publicBaseUrl)
        : { httpStatus: status, body: problem };
    const headers: Record<string, string> = { ...error.options.headers };
    if (params?.retryAfter !== undefined) headers['retry-after'] = String(params.retryAfter);
    if (answer.httpStatus === 401) headers['www-authenticate'] ??= 'Bearer realm="gatehouse"';
    void reply
      .status(answer.httpStatus)
      .headers(headers)
      .header('x-request-id', request.id)
      .header('content-language', lang)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(answer.body));
  }

  /**
   * Node's own refusals of a request it never finished reading (Fastify's clientErrorHandler):
   * the request line and headers over 16 KiB (431), a request not received in time (408), or one
   * HTTP cannot parse (400). No request exists yet, so the problem is written to the socket in
   * English, and `instance` names the occurrence by its id.
   */
  writeClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const code = error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
    const status = ERROR_CATALOG[code].status;
    const requestId = randomUUID();
    const body = JSON.stringify({
      type: `${this.config.publicBaseUrl}/problems/${problemSlug(code)}`,
      title: this.i18n.translate(`problems:${code}.title`, 'en'),
      status,
      detail: this.i18n.translate(`problems:${code}.detail`, 'en'),
      instance: `urn:uuid:${requestId}`,
      code,
      requestId,
    } satisfies ProblemDetails);
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Language: en\r\n` +
          `X-Request-Id: ${requestId}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  }

  /** The code's declared params become extension members, and fill the translated detail. */
  private toProblem(error: DomainError, params: ProblemMembers, request: FastifyRequest, lang: Language): ProblemDetails {
    const { code, options } = error;
    const problem: ProblemDetails = {
      type: `${this.config.publicBaseUrl}/problems/${problemSlug(code)}`,
      title: this.i18n.translate(`problems:${code}.title`, lang),
      status: ERROR_CATALOG[code].status,
      detail: this.i18n.translate(`problems:${code}.detail`, lang, params),
      instance: request.url.split('?')[0] ?? '/',
      code,
      requestId: String(request.id),
      ...params,
    };
    if (options.errors?.length) {
      problem.errors = options.errors.map((issue) => ({
        field: issue.field,
        code: issue.code,
        message: this.fieldMessage(issue, lang),
      }));
    }
    return problem;
  }

  private fieldMessage({ code, text, params }: FieldIssue, lang: Language): string {
    if ('literal' in text) return text.literal;
    const key = `validation:${code}`;
    return this.i18n.has(key, lang) ? this.i18n.translate(key, lang, params) : text.fallback;
  }
}
