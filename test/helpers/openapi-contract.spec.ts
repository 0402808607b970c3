import { describe, expect, it } from 'vitest';
import { OpenApiContract } from './openapi-contract';

const contract = new OpenApiContract();
const json = (statusCode: number, body: unknown, type = 'application/json') => ({
  statusCode,
  headers: { 'content-type': `${type}; charset=utf-8` },
  body: JSON.stringify(body),
});
const problem = (status: number, code: string) =>
  json(status, { type: 'http://localhost:3000/problems/x', title: 'T', status, detail: 'D', instance: '/', code, requestId: 'r' }, 'application/problem+json');

describe('the test client checks every response against openapi/openapi.json', () => {
  it('accepts a documented status whose body matches its schema', () => {
    expect(contract.problems('GET', '/v1/products/prd_x', problem(404, 'NOT_FOUND'))).toEqual([]);
  });

  it('fails a status the operation does not document', () => {
    expect(contract.problems('GET', '/v1/products/prd_x', problem(409, 'CONFLICT'))[0]).toMatch(/status 409 is not documented/);
    expect(() => contract.assert('GET', '/v1/products/prd_x?x=1', problem(409, 'CONFLICT'))).toThrow(/GET \/v1\/products\/prd_x\?x=1 \(getProduct\) -> 409/);
  });

  it('fails a body that breaks the schema, and a media type the status does not document', () => {
    expect(contract.problems('GET', '/v1/products/prd_x', json(404, { message: 'nope' }, 'application/problem+json')).join('\n')).toMatch(
      /must have required property 'code'/,
    );
    expect(contract.problems('GET', '/v1/products/prd_x', json(404, { message: 'nope' }))[0]).toMatch(/content-type "application\/json" is not documented/);
  });

  it('fails a body where the spec documents none', () => {
    expect(contract.problems('DELETE', '/v1/products/prd_x', { statusCode: 204, headers: {}, body: '{}' })).toEqual(['a body where the spec documents none']);
  });

  it('matches a literal path before a parameter, and skips routes the spec leaves out on purpose', () => {
    expect(contract.find('POST', '/v1/licenses/validate')?.template).toBe('/v1/licenses/validate');
    expect(contract.find('GET', '/v1/licenses/lic_1')?.template).toBe('/v1/licenses/{id}');
    for (const url of ['/test-probe/crash', '/docs/swagger-ui.css', '/openapi.json']) expect(contract.find('GET', url)).toBeUndefined();
    expect(contract.problems('GET', '/test-probe/crash', json(500, {}))).toEqual([]);
  });
});
