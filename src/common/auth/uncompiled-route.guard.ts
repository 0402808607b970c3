import { CanActivate, Injectable } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';

/**
 * Deny by default must not depend on RouteExecutor having compiled every route: Nest's own
 * pipeline runs only for a controller route it did not (one Nest registered without the route
 * config that names its handler, such as an `@All()`), and there this global guard refuses every
 * request (500 INTERNAL, logged) instead of letting it reach the handler unauthenticated. The
 * boot check in RouteExecutor refuses to start such an app first; this is what holds if that check
 * is ever bypassed. A compiled route never reaches it, so it costs nothing per request.
 */
@Injectable()
export class UncompiledRouteGuard implements CanActivate {
  canActivate(): boolean {
    throw new DomainError('INTERNAL', { cause: new Error('A controller route reached Nest’s own pipeline: RouteExecutor did not compile it') });
  }
}
