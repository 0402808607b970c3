import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../../common/auth/access.decorators';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AcceptedResponseDto } from '../../common/http/accepted.schemas';
import { PasswordResetDto, PasswordResetRequestDto } from './auth.schemas';
import { PasswordResetService } from './password-reset.service';

/** The published paths live under /v1/users; the logic belongs to auth. */
@ApiTags('Users')
@Controller('v1/users')
export class PasswordResetController {
  constructor(private readonly resets: PasswordResetService) {}

  @Public({ rateLimit: 'passwordResetRequest' })
  @Post('password-reset-request')
  @ApiOperation({
    summary: 'Mail a password-reset link (same answer whether or not the email exists)',
    description:
      'The mail is queued and sent apart from the request, with retries. One address gets at most MAIL_MAX_PER_ADDRESS_PER_HOUR (5) reset and activation mails per hour; past that no mail is queued, and the answer is still 202.',
  })
  @ZodResponse({ status: 202, type: AcceptedResponseDto })
  requestPasswordReset(@Body() dto: PasswordResetRequestDto) {
    return this.resets.request(dto.email, dto.resetPageLink);
  }

  @Public()
  @Post('password-reset')
  @HttpCode(204)
  @ApiOperation({ summary: 'Set a new password with the token from the mail; ends every session of the user' })
  @ApiNoContentResponse({ description: 'Password changed' })
  @ApiProblems('INVALID_TOKEN', 'TOKEN_EXPIRED')
  async resetPassword(@Body() dto: PasswordResetDto) {
    await this.resets.reset(dto.token, dto.newPassword);
  }
}
