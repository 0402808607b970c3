import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/auth/roles';
import { UsersService } from './users.service';
import { MeResponseDto } from './users.schemas';

@ApiTags('Users')
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiOperation({ summary: 'The signed-in user' })
  @ZodResponse({ status: 200, type: MeResponseDto })
  getMe(@CurrentPrincipal() principal: Principal) {
    return this.users.me(principal);
  }
}
