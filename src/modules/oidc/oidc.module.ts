import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { OidcClients } from './oidc-clients';
import { OidcSignInState } from './oidc-state';
import { OidcController } from './oidc.controller';
import { OidcService } from './oidc.service';
import { UserIdentitiesController } from './user-identities.controller';
import { UserIdentitiesRepository } from './user-identities.repository';
import { UserIdentitiesService } from './user-identities.service';

/** Sign-in through external OIDC providers, and the identities it links to users. */
@Module({
  imports: [AuthModule, UsersModule, ApiKeysModule],
  controllers: [OidcController, UserIdentitiesController],
  providers: [OidcService, OidcClients, OidcSignInState, UserIdentitiesService, UserIdentitiesRepository],
})
export class OidcModule {}
