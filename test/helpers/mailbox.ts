import { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { BackgroundTasks } from '../../src/common/background';
import { Database, DB } from '../../src/db/database';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
}

/** A real SMTP server, in-process: the app sends through nodemailer, tests read what arrived. */
export class Mailbox {
  readonly mails: ReceivedMail[] = [];
  /** Addresses refused at RCPT TO with 550 (no such mailbox): a permanent failure. */
  readonly refused = new Set<string>();
  private readonly server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo: (address, _session, callback) => {
      if (!this.refused.has(address.address.toLowerCase())) return callback();
      callback(Object.assign(new Error('5.1.1 No such mailbox here'), { responseCode: 550 }));
    },
    onData: (stream, session, callback) => {
      simpleParser(stream)
        .then((parsed) => {
          this.mails.push({
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });

  /** On `port` when given: a server that comes back where a failing one was. */
  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  to(address: string): ReceivedMail[] {
    return this.mails.filter((mail) => mail.to.includes(address.toLowerCase()) || mail.to.includes(address));
  }

  /**
   * The mails to `address` once there are at least `count` of them: mails are queued with their
   * change and sent by the mail sender moments later, so a test waits for them to arrive.
   */
  async waitFor(address: string, count = 1, timeoutMs = 5_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.to(address).length < count) {
      if (Date.now() > deadline) throw new Error(`${this.to(address).length} of ${count} mails to ${address} arrived within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.to(address);
  }
}

/** The first URL in a mail's text. */
export function linkIn(mail: ReceivedMail): URL {
  const match = /https?:\/\/\S+/.exec(mail.text);
  if (!match) throw new Error(`no link in mail: ${mail.text}`);
  return new URL(match[0]);
}

/**
 * Every mail the app has queued so far has been handed over: its background work (which queues
 * some mails after the response) drained, and no mail left PENDING. After it, a mail that is not
 * in the mailbox was never queued, so "nothing was sent" can be asserted.
 */
export async function mailsSettled(app: INestApplicationContext, timeoutMs = 5_000): Promise<void> {
  await app.get(BackgroundTasks).drain();
  const db = app.get<Database>(DB);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbound_mails WHERE status = 'PENDING'`);
    if (rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} mails still PENDING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
