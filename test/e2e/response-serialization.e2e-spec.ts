import { Controller, Get, INestApplication, Module, RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.setup';
import { Public } from '../../src/common/auth/access.decorators';
import { createTestDatabase, testConfig, useTestApp } from '../helpers/test-app';

const item = z.object({ id: z.string(), at: z.iso.datetime() });
const shape = z.object({
  id: z.string(),
  createdAt: z.iso.datetime(),
  endsAt: z.iso.datetime().nullable(),
  note: z.string().nullable(),
  kind: z.enum(['a', 'b']).nullable(),
  owner: z.object({ id: z.string(), email: z.string() }).nullable(),
  items: z.array(item),
  answer: z.union([z.object({ session: z.string() }), z.object({ challenge: z.string(), method: z.enum(['TOTP']).nullable() })]),
  counts: z.record(z.string(), z.number().int()),
  free: z.unknown(),
  maybe: z.string().optional(),
});
class ShapeDto extends createZodDto(shape) {}
class ItemDto extends createZodDto(item) {}

/** Answers carrying fields nobody declared, next to every kind of declared one. */
@Controller('test-probe/serialize')
class SerializeProbeController {
  @Public()
  @Get('leaky')
  @ZodResponse({ status: 200, type: ShapeDto })
  leaky() {
    // Typed as declared; what comes back holds more, as a database row handed over whole would.
    const answer: unknown = {
      id: 'x1',
      passwordHash: '$argon2id$top-level-leak',
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      endsAt: null,
      note: null,
      kind: null,
      owner: { id: 'usr_1', email: 'a@example.com', passwordHash: 'nested-leak' },
      items: [{ id: 'i1', at: '2026-01-02T03:04:05.000Z', secret: 'item-leak' }],
      answer: { challenge: 'ch', method: null, token: 'union-leak' },
      counts: { a: 1, b: 2 },
      free: { anything: ['goes', 1] },
    };
    return answer as z.infer<typeof shape>;
  }

  @Public()
  @Get('list')
  @ZodResponse({ status: 200, type: [ItemDto] })
  list() {
    const answer: unknown = [
      { id: 'i1', at: '2026-01-02T03:04:05.000Z', secret: 'list-leak' },
      { id: 'i2', at: new Date('2026-02-03T04:05:06.000Z') },
    ];
    return answer as z.infer<typeof item>[];
  }

  @Public()
  @Get('broken')
  @ZodResponse({ status: 200, type: ItemDto })
  broken() {
    const answer: unknown = { at: '2026-01-02T03:04:05.000Z', secret: 'broken-leak' };
    return answer as z.infer<typeof item>;
  }
}

@Module({ controllers: [SerializeProbeController] })
class SerializeProbeModule {}

describe('answers are written by the serializer compiled from their schema (issue 21, item 4)', () => {
  const ctx = useTestApp({ extraModules: [SerializeProbeModule] });

  it('writes only declared fields, at every depth, with dates as ISO strings, nulls, records and unions', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/serialize/leaky' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({
      id: 'x1',
      createdAt: '2026-01-02T03:04:05.678Z',
      endsAt: null,
      note: null,
      kind: null,
      owner: { id: 'usr_1', email: 'a@example.com' },
      items: [{ id: 'i1', at: '2026-01-02T03:04:05.000Z' }],
      answer: { challenge: 'ch', method: null },
      counts: { a: 1, b: 2 },
      free: { anything: ['goes', 1] },
    });
    expect(response.body).not.toMatch(/leak/);
  });

  it('writes a declared array the same way', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/serialize/list' });
    expect(response.json()).toEqual([
      { id: 'i1', at: '2026-01-02T03:04:05.000Z' },
      { id: 'i2', at: '2026-02-03T04:05:06.000Z' },
    ]);
  });

  it('answers a handler that leaves out a required field with a 500 problem, and none of its body', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/serialize/broken' });
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.json()).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(response.body).not.toContain('broken-leak');
  });
});

/** Each controller route as Fastify registers it, and whether it declares its answer with @ZodResponse. */
function declaredRoutes(app: INestApplication): Map<string, boolean> {
  const routes = new Map<string, boolean>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type;
      const prefix = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '';
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as object;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (name === 'constructor' || method === undefined) continue;
        const path = `/${prefix}/${(Reflect.getMetadata(PATH_METADATA, handler) as string | undefined) ?? ''}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
        routes.set(`${RequestMethod[method]} ${path}`, Reflect.hasMetadata('ZOD_SERIALIZER_DTO_OPTIONS', handler));
      }
    }
  }
  return routes;
}

describe('every route that declares its answer gets a compiled serializer', () => {
  it('registers each @ZodResponse route, and only those, with a 2xx response schema in Fastify', async () => {
    const database = await createTestDatabase('serializers');
    const app = await createApp({ config: testConfig(), databaseUrl: database.url, migrate: false });
    const registered = new Map<string, unknown>();
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRoute', (route) => {
        for (const method of [route.method].flat())
          registered.set(`${method} ${route.url}`, (route.schema?.response as Record<string, unknown> | undefined)?.['2xx']);
      });
    try {
      await app.init();
      const declared = declaredRoutes(app);
      expect([...declared.values()].filter(Boolean).length).toBeGreaterThan(60);
      for (const [route, declares] of declared) {
        expect(registered.has(route), route).toBe(true);
        expect(registered.get(route) !== undefined, route).toBe(declares);
      }
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
