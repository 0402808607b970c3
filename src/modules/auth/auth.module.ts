import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AuthCookies } from './auth-cookies';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginFailuresRepository } from './login-failures.repository';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TokensService } from './tokens.service';

@Module({
  imports: [UsersModule],
  controllers: [AuthController],
  providers: [AuthService, AuthCookies, PasswordService, TokensService, RefreshTokensRepository, LoginFailuresRepository],
  exports: [PasswordService, TokensService],
})
export class AuthModule {}
