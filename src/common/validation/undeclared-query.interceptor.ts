import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { DomainError } from '../errors/domain-error';

/**
 * Query schemas are strict, so an unknown parameter is a 422 naming it. A handler that declares no
 * query at all has no schema to be strict, so its unknown parameters are refused here, the same way.
 * Runs after the guards, so an unauthenticated caller still gets 401 first.
 */
@Injectable()
export class UndeclaredQueryInterceptor implements NestInterceptor {
  private readonly declaresQuery = new WeakMap<object, boolean>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && !this.handlerDeclaresQuery(context)) {
      const query = context.switchToHttp().getRequest<FastifyRequest>().query as Record<string, unknown> | undefined;
      const unknown = Object.keys(query ?? {});
      if (unknown.length > 0) {
        throw new DomainError('VALIDATION_FAILED', {
          errors: unknown.map((field) => ({ field, code: 'UNRECOGNIZED_KEY', message: 'Unknown field' })),
        });
      }
    }
    return next.handle();
  }

  private handlerDeclaresQuery(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let declares = this.declaresQuery.get(handler);
    if (declares === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, unknown>;
      declares = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.QUERY));
      this.declaresQuery.set(handler, declares);
    }
    return declares;
  }
}
