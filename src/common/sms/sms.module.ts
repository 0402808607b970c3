import { Global, Module } from '@nestjs/common';
import { AppConfig, APP_CONFIG } from '../../config/config';
import { LogSmsSender, SmsSender, TwilioSmsSender } from './sms.service';

@Global()
@Module({
  providers: [
    {
      provide: SmsSender,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): SmsSender => (config.sms.provider === 'twilio' ? new TwilioSmsSender(config.sms) : new LogSmsSender()),
    },
  ],
  exports: [SmsSender],
})
export class SmsModule {}
