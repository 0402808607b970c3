import { Global, Module } from '@nestjs/common';
import { SessionVerifier } from '../../common/auth/session-verifier';
import { UsersModule } from '../users/users.module';
import { AdminAccountsService } from './admin-accounts.service';
import { AuthCookies } from './auth-cookies';
import { AuthController, IntegrationAuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginFailuresPruner } from './login-failures.pruner';
import { LoginFailuresRepository } from './login-failures.repository';
import { PasswordResetController } from './password-reset.controller';
import { PasswordResetRepository } from './password-reset.repository';
import { PasswordResetService } from './password-reset.service';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionAuthenticator } from './session-authenticator';
import { TokensService } from './tokens.service';

/** Global only to hand the guard chain its SessionVerifier. */
@Global()
@Module({
  imports: [UsersModule],
  controllers: [AuthController, IntegrationAuthController, PasswordResetController],
  providers: [
    AuthService,
    AuthCookies,
    PasswordService,
    TokensService,
    RefreshTokensRepository,
    LoginFailuresRepository,
    LoginFailuresPruner,
    PasswordResetService,
    PasswordResetRepository,
    AdminAccountsService,
    SessionAuthenticator,
    { provide: SessionVerifier, useExisting: SessionAuthenticator },
  ],
  exports: [PasswordService, TokensService, AuthCookies, RefreshTokensRepository, SessionVerifier],
})
export class AuthModule {}
