import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { UserIdentityIdParamsDto, UserIdentityListDto } from './oidc.schemas';
import { UserIdentitiesService } from './user-identities.service';

@ApiTags('Users')
@Controller('v1/users/me/identities')
export class UserIdentitiesController {
  constructor(private readonly identities: UserIdentitiesService) {}

  @Authenticated({ metered: 'unmetered' })
  @Get()
  @ApiOperation({ summary: 'Your identities at OIDC providers, oldest first' })
  @ZodResponse({ status: 200, type: UserIdentityListDto })
  listUserIdentities(@CurrentPrincipal() principal: Principal) {
    return this.identities.list(principal);
  }

  @Authenticated({ metered: 'unmetered' })
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unlink an identity; a user without a password keeps its last one' })
  @ApiNoContentResponse({ description: 'Unlinked' })
  @ApiProblems('FORBIDDEN', 'NOT_FOUND', 'LAST_SIGN_IN_METHOD')
  deleteUserIdentity(@CurrentPrincipal() principal: Principal, @Param() params: UserIdentityIdParamsDto) {
    return this.identities.unlink(principal, params.id);
  }
}
