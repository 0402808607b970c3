import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Checks responses against the committed openapi/openapi.json: the status must be one the
 * operation documents, with a documented media type and a body its schema accepts. The test
 * client runs every response of a documented operation through here (see createTestApp).
 */

const SPEC_PATH = join(__dirname, '../../openapi/openapi.json');
const SPEC_ID = 'openapi.json';

/** Served by the app but deliberately not in the spec, so not checked. */
export const UNDOCUMENTED_ROUTES: { pattern: RegExp; why: string }[] = [
  { pattern: /^\/test-probe(\/|$)/, why: 'probe routes that exist only in tests (test/fixtures/probe.module.ts)' },
  { pattern: /^\/docs(\/|$)/, why: 'Swagger UI and its assets' },
  { pattern: /^\/openapi\.json$/, why: 'the document itself' },
  { pattern: /^\/(activate|reset-password)$/, why: 'the default pages mailed links open: HTML for people, not API operations (src/modules/pages)' },
  { pattern: /^\/dev\/mail(\.json)?$/, why: 'the development mailbox, which production does not have (the spec does not depend on configuration)' },
];

interface MediaType {
  schema?: object;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId?: string;
  responses: Record<string, ResponseObject>;
}
interface Route {
  method: string;
  template: string;
  regex: RegExp;
  params: number;
  operation: Operation;
}

export interface CheckedResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

function compileRoutes(paths: Record<string, Record<string, Operation>>): Route[] {
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(paths)) {
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const source = template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    for (const [method, operation] of Object.entries(item)) {
      routes.push({ method: method.toUpperCase(), template, regex: new RegExp(`^${source}/?$`), params, operation });
    }
  }
  // A literal segment wins over a parameter, as in the router: /v1/licenses/validate is not /v1/licenses/{id}.
  return routes.sort((a, b) => a.params - b.params);
}

export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(specPath = SPEC_PATH) {
    const spec = JSON.parse(readFileSync(specPath, 'utf8').replaceAll('"#/components/', `"${SPEC_ID}#/components/`));
    // `example` and the other OpenAPI-only keywords are annotations; `nullable` is OpenAPI 3.0's.
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: SPEC_ID, components: spec.components });
    this.routes = compileRoutes(spec.paths);
  }

  /** The documented operation a request reaches, if any. */
  find(method: string, url: string): Route | undefined {
    const path = url.split('?')[0] ?? url;
    if (UNDOCUMENTED_ROUTES.some(({ pattern }) => pattern.test(path))) return undefined;
    // The path belongs to its most specific template, whatever the method; a method that template
    // does not document is no operation at all (the server answers 405, which routing tests check).
    const template = this.routes.find((route) => route.regex.test(path))?.template;
    return this.routes.find((route) => route.template === template && route.method === method.toUpperCase());
  }

  /** What is wrong with a response to `method url` by the spec; an empty list when nothing is. */
  problems(method: string, url: string, response: CheckedResponse): string[] {
    const route = this.find(method, url);
    if (!route) return [];
    const documented = route.operation.responses[String(response.statusCode)] ?? route.operation.responses.default;
    if (!documented) {
      return [`status ${response.statusCode} is not documented (documented: ${Object.keys(route.operation.responses).join(', ')})`];
    }
    if (!documented.content) return response.body.length > 0 ? ['a body where the spec documents none'] : [];
    const contentType = response.headers['content-type'];
    const mediaType = (typeof contentType === 'string' ? contentType : '').split(';')[0]!.trim();
    const media = documented.content[mediaType];
    if (!media) return [`content-type "${mediaType}" is not documented (documented: ${Object.keys(documented.content).join(', ')})`];
    if (!media.schema) return [];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return [`the body is not JSON: ${response.body.slice(0, 200)}`];
    }
    const validate = this.validatorFor(`${route.method} ${route.template} ${response.statusCode} ${mediaType}`, media.schema);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => `body${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
  }

  /** Throws, naming the request and every violation, when the response breaks the spec. */
  assert(method: string, url: string, response: CheckedResponse): void {
    const problems = this.problems(method, url, response);
    if (problems.length === 0) return;
    const route = this.find(method, url)!;
    throw new Error(
      `Response breaks openapi/openapi.json: ${method.toUpperCase()} ${url} (${route.operation.operationId ?? route.template}) -> ${response.statusCode}\n` +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        `\n  body: ${response.body.slice(0, 500)}`,
    );
  }

  private validatorFor(key: string, schema: object): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(key, validate);
    }
    return validate;
  }
}
