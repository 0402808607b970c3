import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ArgumentsHost,
  Body,
  Catch,
  createParamDecorator,
  ExceptionFilter,
  ExecutionContext,
  Header,
  Headers,
  HttpCode,
  Ip,
  Param,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import * as constants from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import { describe, expect, it } from 'vitest';

/**
 * RouteExecutor (route-executor.ts) reads Nest's route metadata itself and builds Nest's
 * ExecutionContextHost, both from deep imports that are no public API. These pin what it relies
 * on to the versions it was checked against, so an upgrade that changes them fails here first
 * (then re-read route-executor.ts against the new version before changing the numbers).
 */
describe('the Nest internals RouteExecutor relies on', () => {
  const version = (name: string) => {
    const root = dirname(require.resolve(`${name}/package.json`));
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  };

  it('are those of the versions route-executor.ts was checked against', () => {
    expect({
      core: version('@nestjs/core'),
      common: version('@nestjs/common'),
      platform: version('@nestjs/platform-fastify'),
      fastify: version('fastify'),
    }).toEqual({
      core: '11.2.10',
      common: '11.2.10',
      platform: '11.2.8',
      // Newer than the 5.11.3 platform-fastify pins: package.json overrides it (fastify 5.11's body
      // parser kept each request alive until a full GC on Node 20; bench/README.md, session 10).
      // The adapter's middleware mirror still reads the top-level find-my-way; the app registers no
      // middleware (skipMiddie), so the two router versions never meet.
      fastify: '5.12.8',
    });
  });

  it('metadata keys', () => {
    expect({
      CUSTOM_ROUTE_ARGS_METADATA: constants.CUSTOM_ROUTE_ARGS_METADATA,
      EXCEPTION_FILTERS_METADATA: constants.EXCEPTION_FILTERS_METADATA,
      FILTER_CATCH_EXCEPTIONS: constants.FILTER_CATCH_EXCEPTIONS,
      GUARDS_METADATA: constants.GUARDS_METADATA,
      HEADERS_METADATA: constants.HEADERS_METADATA,
      HTTP_CODE_METADATA: constants.HTTP_CODE_METADATA,
      INTERCEPTORS_METADATA: constants.INTERCEPTORS_METADATA,
      PARAMTYPES_METADATA: constants.PARAMTYPES_METADATA,
      PIPES_METADATA: constants.PIPES_METADATA,
      REDIRECT_METADATA: constants.REDIRECT_METADATA,
      RENDER_METADATA: constants.RENDER_METADATA,
      RESPONSE_PASSTHROUGH_METADATA: constants.RESPONSE_PASSTHROUGH_METADATA,
      ROUTE_ARGS_METADATA: constants.ROUTE_ARGS_METADATA,
      SSE_METADATA: constants.SSE_METADATA,
      FASTIFY_ROUTE_CONFIG_METADATA,
    }).toEqual({
      CUSTOM_ROUTE_ARGS_METADATA: '__customRouteArgs__',
      EXCEPTION_FILTERS_METADATA: '__exceptionFilters__',
      FILTER_CATCH_EXCEPTIONS: '__filterCatchExceptions__',
      GUARDS_METADATA: '__guards__',
      HEADERS_METADATA: '__headers__',
      HTTP_CODE_METADATA: '__httpCode__',
      INTERCEPTORS_METADATA: '__interceptors__',
      PARAMTYPES_METADATA: 'design:paramtypes',
      PIPES_METADATA: '__pipes__',
      REDIRECT_METADATA: '__redirect__',
      RENDER_METADATA: '__renderTemplate__',
      RESPONSE_PASSTHROUGH_METADATA: '__responsePassthrough__',
      ROUTE_ARGS_METADATA: '__routeArguments__',
      SSE_METADATA: '__sse__',
      FASTIFY_ROUTE_CONFIG_METADATA: '__fastify_route_config__',
    });
  });

  it('RouteParamtypes: the parameter kinds, by the numbers route metadata keys start with', () => {
    const numeric = Object.fromEntries(Object.entries(RouteParamtypes).filter(([, value]) => typeof value === 'number'));
    expect(numeric).toEqual({
      REQUEST: 0,
      RESPONSE: 1,
      NEXT: 2,
      BODY: 3,
      QUERY: 4,
      PARAM: 5,
      HEADERS: 6,
      SESSION: 7,
      FILE: 8,
      FILES: 9,
      HOST: 10,
      IP: 11,
      RAW_BODY: 12,
      ACK: 13,
    });
  });

  it('the decorators write the metadata shapes argumentsOf, compile and filtersOf read', () => {
    const Custom = createParamDecorator((data: string, context: ExecutionContext) => `${data}:${context.switchToHttp().getRequest<{ id: string }>().id}`);
    @Catch(RangeError)
    class RangeFilter implements ExceptionFilter {
      catch(_error: unknown, _host: ArgumentsHost) {}
    }
    const filter = new RangeFilter();
    class Dto {}
    class Controller {
      @HttpCode(204)
      @Header('cache-control', 'no-store')
      @UseFilters(filter)
      handle(
        @Body() _body: Dto,
        @Query('q') _q: string,
        @Param('id') _id: string,
        @Headers('X-Trace') _trace: string,
        @Req() _request: unknown,
        @Res({ passthrough: true }) _reply: unknown,
        @Ip() _ip: string,
        @Custom('tag') _custom: string,
      ) {}
    }
    const handler = Reflect.get(Controller.prototype, 'handle') as () => void;

    const args = Reflect.getMetadata(constants.ROUTE_ARGS_METADATA, Controller, 'handle') as Record<string, Record<string, unknown>>;
    const customKey = Object.keys(args).find((key) => key.includes(constants.CUSTOM_ROUTE_ARGS_METADATA))!;
    const { factory, ...custom } = args[customKey]!;
    expect({ ...args, [customKey]: custom }).toEqual({
      [`${RouteParamtypes.BODY}:0`]: { index: 0, data: undefined, pipes: [] },
      [`${RouteParamtypes.QUERY}:1`]: { index: 1, data: 'q', pipes: [] },
      [`${RouteParamtypes.PARAM}:2`]: { index: 2, data: 'id', pipes: [] },
      [`${RouteParamtypes.HEADERS}:3`]: { index: 3, data: 'X-Trace', pipes: [] },
      [`${RouteParamtypes.REQUEST}:4`]: { index: 4, data: undefined, pipes: [] },
      [`${RouteParamtypes.RESPONSE}:5`]: { index: 5, data: undefined, pipes: [] },
      [`${RouteParamtypes.IP}:6`]: { index: 6, data: undefined, pipes: [] },
      [customKey]: { index: 7, data: 'tag', pipes: [] },
    });
    // The executor calls a custom decorator's factory itself, with an ExecutionContextHost over [request, reply].
    expect((factory as (data: unknown, host: ExecutionContextHost) => unknown)('tag', new ExecutionContextHost([{ id: 'r1' }, {}], Controller, handler))).toBe(
      'tag:r1',
    );
    expect((Reflect.getMetadata(constants.PARAMTYPES_METADATA, Controller.prototype, 'handle') as unknown[])[0]).toBe(Dto);
    expect(Reflect.getMetadata(constants.RESPONSE_PASSTHROUGH_METADATA, Controller, 'handle')).toBe(true);
    expect(Reflect.getMetadata(constants.HTTP_CODE_METADATA, handler)).toBe(204);
    expect(Reflect.getMetadata(constants.HEADERS_METADATA, handler)).toEqual([{ name: 'cache-control', value: 'no-store' }]);
    expect(Reflect.getMetadata(constants.EXCEPTION_FILTERS_METADATA, handler)).toEqual([filter]);
    expect(Reflect.getMetadata(constants.FILTER_CATCH_EXCEPTIONS, RangeFilter)).toEqual([RangeError]);
  });

  it('ExecutionContextHost: built from (args, class?, handler?), an http context over the request and reply', () => {
    expect(ExecutionContextHost).toBeTypeOf('function');
    // One required parameter: the class and handler default to null (filters get a context without them).
    expect(ExecutionContextHost.length).toBe(1);
    const request = { id: 'r1' };
    const reply = { sent: false };
    class Controller {
      handle() {}
    }
    const handle = Reflect.get<Controller, 'handle'>(Controller.prototype, 'handle');
    const host = new ExecutionContextHost([request, reply], Controller, handle);
    expect(host.getType()).toBe('http');
    expect(host.getArgs()).toEqual([request, reply]);
    expect(host.switchToHttp().getRequest()).toBe(request);
    expect(host.switchToHttp().getResponse()).toBe(reply);
    expect(host.getClass()).toBe(Controller);
    expect(host.getHandler()).toBe(handle);
    const bare = new ExecutionContextHost([request, reply]);
    expect(bare.switchToHttp().getRequest()).toBe(request);
    expect(bare.getClass()).toBeNull();
  });
});
