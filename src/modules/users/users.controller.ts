import { Body, Controller, Get, Patch, Query } from '@nestjs/common';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { UsersService } from './users.service';
import { UserListQueryDto, UserPageDto, UserResponseEnvelopeDto, UserUpdateDto } from './users.schemas';

@ApiTags('Users')
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

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
}
