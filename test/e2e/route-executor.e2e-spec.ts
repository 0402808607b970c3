import {
  All,
  ArgumentsHost,
  Body,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  Header,
  HttpCode,
  Module,
  Next,
  Post,
  Redirect,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createZodDto } from 'nestjs-zod';
import { Public } from '../../src/common/auth/access.decorators';
import { RouteGuard } from '../../src/common/auth/route.guard';
import { ProblemWriter } from '../../src/common/errors/problem-writer';
import { controllerHandlers } from '../../src/common/http/controller-handlers';
import { RouteExecutor } from '../../src/common/routing/route-executor';
import { MetadataScanner } from '@nestjs/core';
import { UncompiledRouteGuard } from '../../src/common/auth/uncompiled-route.guard';
import { DomainError } from '../../src/common/errors/domain-error';
import { createTestApp, createTestDatabase, useTestApp } from '../helpers/test-app';

@Controller('catch-all')
class CatchAllController {
  @Public()
  @All()
  anything() {
    return { reached: true };
  }
}

@Module({ controllers: [CatchAllController] })
class CatchAllModule {}

class Thrown extends Error {}

@Catch(Thrown)
class ThrownFilter implements ExceptionFilter {
  catch(_error: Thrown, host: ArgumentsHost) {
    void host.switchToHttp().getResponse<FastifyReply>().status(418).send({ caught: true });
  }
}

class EchoDto extends createZodDto(z.strictObject({ word: z.string().min(2) })) {}

@Controller('probe')
class ProbeController {
  @Public()
  @Post('echo')
  @HttpCode(202)
  @Header('x-probe', 'yes')
  echo(@Body() dto: EchoDto) {
    return { echoed: dto.word };
  }

  @Public()
  @Post('field')
  field(@Body('constructor') inherited: unknown, @Body('toString') method: unknown, @Body('word') word: unknown) {
    // (A field that is not there reaches the handler as the pipe's {}: a POST's missing body is validated as {}.)
    return { inheritedConstructor: inherited === Object, inheritedMethod: typeof method === 'function', word };
  }

  @Public()
  @Get('thrown')
  @UseFilters(ThrownFilter)
  thrown() {
    throw new Thrown();
  }

  @Public()
  @Get('other-error')
  @UseFilters(ThrownFilter)
  otherError() {
    throw new Error('not for the route filter');
  }
}

/** A controller with one route using `decorate`, for the refusals. */
function probeWith(decorate: MethodDecorator, parameter?: ParameterDecorator) {
  @Controller('refused')
  class Refused {
    @Public()
    @Get()
    @decorate
    route(..._args: unknown[]) {
      return {};
    }
  }
  if (parameter) parameter(Refused.prototype, 'route', 0);
  return Refused;
}

describe('RouteExecutor: each controller route served by a handler compiled at boot', () => {
  const ctx = useTestApp();

  const executorFor = (controller: new () => object) => {
    const discovery = {
      getControllers: () => [{ metatype: controller, instance: new controller(), isDependencyTreeStatic: () => true }],
    } as unknown as DiscoveryService;
    const executor = new RouteExecutor(ctx.t.app.get(RouteGuard), ctx.t.app.get(ProblemWriter), discovery);
    const handlers = [...controllerHandlers(discovery, new MetadataScanner())];
    return { executor, handlers };
  };

  /** Runs a compiled handler on a Fastify request of its own: registered on a fresh instance. */
  async function serve(controller: new () => object, name: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
    const { executor, handlers } = executorFor(controller);
    const target = handlers.find((handler) => handler.name === name)!;
    const { default: Fastify } = await import('fastify');
    const fastify = Fastify();
    fastify.route({ method, url, handler: executor.compile(target, false) });
    const response = await fastify.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
    await fastify.close();
    return response;
  }

  it('answers with the route status and headers, its input checked by the zod pipe', async () => {
    const ok = await serve(ProbeController, 'echo', 'POST', '/probe/echo', { word: 'hi' });
    expect(ok.statusCode).toBe(202);
    expect(ok.headers['x-probe']).toBe('yes');
    expect(ok.json()).toEqual({ echoed: 'hi' });

    const bad = await serve(ProbeController, 'echo', 'POST', '/probe/echo', { word: 'h', extra: 1 });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    expect(
      bad
        .json()
        .errors.map((issue: { field: string }) => issue.field)
        .sort(),
    ).toEqual(['extra', 'word']);
  });

  it("@Body('field') reads the body's own property only, as Nest does: nothing the body inherits", async () => {
    const answer = await serve(ProbeController, 'field', 'POST', '/probe/field', { word: 'own' });
    expect(answer.json()).toEqual({ inheritedConstructor: false, inheritedMethod: false, word: 'own' });
  });

  it("sends an error to the route's own filter when it catches it, else to problem+json", async () => {
    const caught = await serve(ProbeController, 'thrown', 'GET', '/probe/thrown');
    expect(caught.statusCode).toBe(418);
    expect(caught.json()).toEqual({ caught: true });

    const other = await serve(ProbeController, 'otherError', 'GET', '/probe/other-error');
    expect(other.statusCode).toBe(500);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.body).not.toContain('not for the route filter');
  });

  it('refuses at boot what it would not serve as Nest did: route guards, pipes, interceptors, redirects, parameter pipes, @Next()', () => {
    const refusals: [MethodDecorator, ParameterDecorator | undefined, RegExp][] = [
      [UseGuards(class {}), undefined, /route-level __guards__/],
      [UsePipes(class {}), undefined, /route-level __pipes__/],
      [UseInterceptors(class {}), undefined, /route-level __interceptors__/],
      [Redirect('/elsewhere'), undefined, /__redirect__ is not supported/],
      [
        Header('x', 'y'),
        Body(
          class Pipe {
            transform = (value: unknown) => value;
          },
        ),
        /parameter pipes are not supported/,
      ],
      [Header('x', 'y'), Next(), /parameter decorator NEXT is not supported/],
    ];
    for (const [decorate, parameter, message] of refusals) {
      const controller = probeWith(decorate, parameter);
      const { executor, handlers } = executorFor(controller);
      expect(() => executor.compile(handlers[0]!, false), String(message)).toThrow(message);
    }
  });

  it('fails closed: an app with a route RouteExecutor did not compile (an @All(), which Nest registers without route config) refuses to start', async () => {
    const database = await createTestDatabase('uncompiled');
    try {
      await expect(createTestApp({ database, extraModules: [CatchAllModule] })).rejects.toThrow(
        /Routes not compiled by RouteExecutor \(deny by default\): ALL \/catch-all/,
      );
    } finally {
      await database.drop();
    }
  });

  it('and a request that reaches Nest’s own pipeline anyway is refused by its global guard, never served', () => {
    expect(() => new UncompiledRouteGuard().canActivate()).toThrow(DomainError);
  });
});
