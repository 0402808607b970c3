import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { accessTokenJwtOptions } from '../../common/auth/access-token';
import { SessionVerifier } from '../../common/auth/session-verifier';
import { ThrottlingModule } from '../../common/throttling/throttling.module';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { UsersModule } from '../users/users.module';
import { AdminAccountsService } from './admin-accounts.service';
import { AuthCookies } from './auth-cookies.service';
import { AuthController, IntegrationAuthController } from './auth.controller';
import { AuthRetention } from './auth.retention';
import { AuthService } from './auth.service';
import { LoginFailuresRepository } from './login-failures.repository';
import { PasswordResetController } from './password-reset.controller';
import { PasswordResetRepository } from './password-reset.repository';
import { PasswordResetService } from './password-reset.service';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionAuthenticator } from './session-authenticator';
import { TokensService } from './tokens.service';
import { TwoFactorAdminController, TwoFactorController } from './two-factor.controller';
import { TwoFactorAttemptsService } from './two-factor-attempts.service';
import { TwoFactorRepository } from './two-factor.repository';
import { TwoFactorService } from './two-factor.service';
import { UserAccessController } from './user-access.controller';
import { UserAccessService } from './user-access.service';

/** Sign-in, sessions, password resets and second factors, built on the users module. The route guard gets its SessionVerifier through AuthCoreModule.forRoot (app.module). */
@Module({
  imports: [
    UsersModule,
    ThrottlingModule,
    ApiKeysModule,
    // Access tokens are signed here and verified by the route guard's passport-jwt strategy, with the same key.
    JwtModule.registerAsync({ inject: [APP_CONFIG], useFactory: (config: AppConfig) => accessTokenJwtOptions(config.auth) }),
  ],
  controllers: [AuthController, IntegrationAuthController, PasswordResetController, TwoFactorController, TwoFactorAdminController, UserAccessController],
  providers: [
    AuthService,
    AuthCookies,
    PasswordService,
    TokensService,
    RefreshTokensRepository,
    LoginFailuresRepository,
    AuthRetention,
    PasswordResetService,
    PasswordResetRepository,
    AdminAccountsService,
    SessionAuthenticator,
    TwoFactorService,
    TwoFactorAttemptsService,
    TwoFactorRepository,
    UserAccessService,
    { provide: SessionVerifier, useExisting: SessionAuthenticator },
  ],
  exports: [PasswordService, TokensService, AuthService, AuthCookies, UserAccessService, SessionVerifier],
})
export class AuthModule {}
