import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { AccountsRetention } from './accounts.retention';

@Module({
  imports: [UsersModule],
  controllers: [AccountsController],
  providers: [AccountsService, AccountsRepository, AccountsRetention],
  exports: [AccountsService],
})
export class AccountsModule {}
