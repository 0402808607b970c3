import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { refuseUndeclaredQuery, routeInputsOf } from './route-inputs';

/**
 * Query schemas are strict, so an unknown parameter is a 422 naming it. A handler that declares no
 * query at all has no schema to be strict, so its unknown parameters are refused here, the same way.
 * Runs after the guards, so an unauthenticated caller still gets 401 first.
 */
@Injectable()
export class UndeclaredQueryInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && !routeInputsOf(context).declaresQuery) refuseUndeclaredQuery(context.switchToHttp().getRequest<FastifyRequest>());
    return next.handle();
  }
}
