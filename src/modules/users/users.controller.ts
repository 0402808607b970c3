import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { UsersService } from './users.service';
import {
  MeResponseEnvelopeDto,
  UserIdParamsDto,
  UserListQueryDto,
  UserPageDto,
  UserResponseEnvelopeDto,
  UserRoleUpdateDto,
  UserStatusUpdateDto,
  UserUpdateDto,
} from './users.schemas';

@ApiTags('Users')
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Authenticated({ allowInactive: true, metered: 'unmetered' })
  @Get('me')
  @ApiOperation({ summary: 'The signed-in user, and whether its login asks for a second factor' })
  @ZodResponse({ status: 200, type: MeResponseEnvelopeDto })
  getMe(@CurrentPrincipal() principal: Principal) {
    return this.users.me(principal);
  }

  @Authenticated({ allowInactive: true })
  @Patch('update')
  @ApiOperation({ summary: 'Update your profile; an ADMIN may name another user with userId' })
  @ApiProblems('FORBIDDEN', 'NOT_FOUND')
  @ZodResponse({ status: 200, type: UserResponseEnvelopeDto })
  updateUser(@CurrentPrincipal() principal: Principal, @Body() dto: UserUpdateDto) {
    return this.users.update(principal, dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Get()
  @ApiOperation({ summary: 'List users (ADMIN), filtered by email or status, oldest first' })
  @ZodResponse({ status: 200, type: UserPageDto })
  listUsers(@Query() query: UserListQueryDto) {
    return this.users.list(query);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch(':id/status')
  @ApiOperation({ summary: "Set a user's status (ADMIN); suspending ends the user's sessions" })
  @ApiProblems('NOT_FOUND', 'LAST_ADMIN')
  @ZodResponse({ status: 200, type: UserResponseEnvelopeDto })
  updateUserStatus(@Param() params: UserIdParamsDto, @Body() dto: UserStatusUpdateDto) {
    return this.users.setStatus(params.id, dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch(':id/role')
  @ApiOperation({ summary: "Set a user's role (ADMIN); it ends the user's sessions" })
  @ApiProblems('NOT_FOUND', 'LAST_ADMIN')
  @ZodResponse({ status: 200, type: UserResponseEnvelopeDto })
  updateUserRole(@Param() params: UserIdParamsDto, @Body() dto: UserRoleUpdateDto) {
    return this.users.setRole(params.id, dto);
  }
}
