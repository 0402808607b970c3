import { describe, expect, it } from 'vitest';
import { DeferredSerializers } from './response-schemas';

const route = (schema: object) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' }) as never;
const OBJECT = { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } }, required: ['id'] };

describe('DeferredSerializers: response serializers compiled on first answer or after start-up, not during it', () => {
  it('writes what the default compiler writes (declared fields only), compiling at the first call', () => {
    const deferred = new DeferredSerializers();
    const compiler = (deferred.factory as unknown as (schemas: unknown, options: unknown) => (route: never) => (data: unknown) => string)({}, undefined);
    const serialize = compiler(route(OBJECT));
    expect(serialize({ id: 'a', n: 2, secret: 'never written' })).toBe('{"id":"a","n":2}');
  });

  it('compileAll compiles what no answer needed yet, and reports a schema that cannot compile', async () => {
    const deferred = new DeferredSerializers();
    const compiler = (deferred.factory as unknown as (schemas: unknown, options: unknown) => (route: never) => (data: unknown) => string)({}, undefined);
    // Building the serializer of a bad schema throws only when it is compiled, which creating it does not do.
    const broken = compiler(route({ type: 'object', properties: { x: { $ref: '#/definitions/missing' } } }));
    const fine = compiler(route(OBJECT));
    await expect(deferred.compileAll()).rejects.toThrow();
    expect(() => broken({ x: 1 })).toThrow();
    expect(fine({ id: 'b' })).toBe('{"id":"b"}');
  });
});
