import { Body, Controller, Get, Param, Patch } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Principal } from '../../common/auth/principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { MeResponseEnvelopeDto, UserIdParamsDto, UserResponseEnvelopeDto, UserRoleUpdateDto, UserStatusUpdateDto } from '../users/users.schemas';
import { UserAccessService } from './user-access.service';

/** The routes under /v1/users that read or end a user's sessions; the users module keeps the profile. */
@ApiTags('Users')
@Controller('v1/users')
export class UserAccessController {
  constructor(private readonly access: UserAccessService) {}

  @Authenticated({ allowInactive: true, metered: 'unmetered' })
  @Get('me')
  @ApiOperation({ summary: 'The signed-in user, and whether its login asks for a second factor' })
  @ZodResponse({ status: 200, type: MeResponseEnvelopeDto })
  getMe(@CurrentPrincipal() principal: Principal) {
    return this.access.me(principal);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch(':id/status')
  @ApiOperation({ summary: "Set a user's status (ADMIN); suspending ends the user's sessions" })
  @ApiProblems('NOT_FOUND', 'LAST_ADMIN')
  @ZodResponse({ status: 200, type: UserResponseEnvelopeDto })
  updateUserStatus(@Param() params: UserIdParamsDto, @Body() dto: UserStatusUpdateDto) {
    return this.access.setStatus(params.id, dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch(':id/role')
  @ApiOperation({ summary: "Set a user's role (ADMIN); it ends the user's sessions" })
  @ApiProblems('NOT_FOUND', 'LAST_ADMIN')
  @ZodResponse({ status: 200, type: UserResponseEnvelopeDto })
  updateUserRole(@Param() params: UserIdParamsDto, @Body() dto: UserRoleUpdateDto) {
    return this.access.setRole(params.id, dto);
  }
}
