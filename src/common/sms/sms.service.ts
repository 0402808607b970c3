import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';

/** Sends one text message. SMS_PROVIDER picks the implementation. */
export abstract class SmsSender {
  abstract send(to: string, body: string): Promise<void>;
}

/** SMS_PROVIDER=log (the default): the message is written to the log, not sent. */
@Injectable()
export class LogSmsSender extends SmsSender {
  private readonly logger = new Logger('Sms');

  send(to: string, body: string): Promise<void> {
    this.logger.log(`SMS (SMS_PROVIDER=log, not sent) to ${to}: ${body}`);
    return Promise.resolve();
  }
}

/** SMS_PROVIDER=twilio: Twilio's Messages REST API, at TWILIO_API_BASE (a local endpoint in tests). */
export class TwilioSmsSender extends SmsSender {
  constructor(private readonly options: { accountSid: string; authToken: string; from: string; apiBase: string }) {
    super();
  }

  async send(to: string, body: string): Promise<void> {
    const { accountSid, authToken, from, apiBase } = this.options;
    const response = await fetch(`${apiBase}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: to, From: from, Body: body }),
      signal: AbortSignal.timeout(10_000),
    }).catch((error: unknown) => {
      throw new DomainError('UPSTREAM_FAILED', { cause: error });
    });
    if (!response.ok) {
      // Twilio's error body names the problem (e.g. an unverified number); it holds no secret of ours.
      const detail = (await response.text()).slice(0, 300);
      throw new DomainError('UPSTREAM_FAILED', { cause: new Error(`Twilio answered ${response.status}: ${detail}`) });
    }
  }
}
