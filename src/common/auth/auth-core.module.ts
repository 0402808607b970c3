import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ThrottlingModule } from '../throttling/throttling.module';
import { AccessTokenStrategy, ApiKeyStrategy } from './passport-strategies';
import { RouteGuard } from './route.guard';
import { UncompiledRouteGuard } from './uncompiled-route.guard';

/**
 * The one route guard (throttle, authenticate, authorize, meter; RouteExecutor runs it first on
 * every controller route) and the passport strategies it
 * authenticates with. It depends on three ports defined in common/ (Meter, ApiKeyVerifier,
 * SessionVerifier); the app names the modules that export them (metering, api-keys, auth), so
 * common/ never imports a domain module and those modules need not be global.
 */
@Module({})
export class AuthCoreModule {
  static forRoot(options: { portsFrom: Type[] }): DynamicModule {
    return {
      module: AuthCoreModule,
      imports: [DiscoveryModule, ThrottlingModule, ...options.portsFrom],
      providers: [AccessTokenStrategy, ApiKeyStrategy, RouteGuard, { provide: APP_GUARD, useClass: UncompiledRouteGuard }],
      exports: [RouteGuard],
    };
  }
}
