import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AdminAccounts } from './admin-accounts';
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
import { TokensService } from './tokens.service';

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
    AdminAccounts,
  ],
  exports: [PasswordService, TokensService],
})
export class AuthModule {}
