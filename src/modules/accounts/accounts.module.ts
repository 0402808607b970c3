import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { PhoneSendCountsPruner } from './phone-send-counts.pruner';

@Module({
  imports: [UsersModule],
  controllers: [AccountsController],
  providers: [AccountsService, AccountsRepository, PhoneSendCountsPruner],
  exports: [AccountsRepository],
})
export class AccountsModule {}
