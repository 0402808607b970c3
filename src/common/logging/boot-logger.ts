import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';
import type { AppConfig } from '../../config/config';
import { REDACTED_PATHS } from './logging.module';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A Nest logger writing the same pino JSON lines as the app's nestjs-pino logger (numeric level,
 * time, pid, hostname, context, msg), for everything logged before that logger exists: config
 * errors, embedded Postgres, migrations. So a log shipper sees one format from the first line.
 */
export class BootLogger implements LoggerService {
  readonly pino: Pino;

  constructor(level: AppConfig['logLevel'] = 'info', destination?: pino.DestinationStream) {
    const options = { level, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } };
    this.pino = destination ? pino(options, destination) : pino(options);
  }

  setLevel(level: AppConfig['logLevel']): void {
    this.pino.level = level;
  }

  fatal(message: unknown, ...params: unknown[]) {
    this.write('fatal', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }

  /** Nest passes the context last and, for errors, a stack before it; nestjs-pino reads them the same way. */
  private write(level: Level, message: unknown, params: unknown[]) {
    const rest = [...params];
    const context = rest.length > 0 ? rest.pop() : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message }, ...(rest.filter((part) => typeof part === 'string') as [string]));
    } else {
      const stack = level === 'error' || level === 'fatal' ? rest.find((part) => typeof part === 'string') : undefined;
      this.pino[level](stack ? { ...fields, err: { message: String(message), stack } } : fields, String(message));
    }
  }
}
