import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthenticationGuard } from './authentication.guard';
import { JwtStrategy } from './jwt.strategy';
import { RolesGuard } from './roles';

/** The global guard chain, in order: authenticate, then authorize (throttling joins first later). */
@Module({
  imports: [PassportModule],
  providers: [JwtStrategy, { provide: APP_GUARD, useClass: AuthenticationGuard }, { provide: APP_GUARD, useClass: RolesGuard }],
})
export class AuthCoreModule {}
