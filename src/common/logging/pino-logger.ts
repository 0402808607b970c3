import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger as Pino } from 'pino';
import type { AppConfig } from '../../config/config';

/** Headers and fields whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['password', 'newPassword', 'token', 'secret', 'key', 'accessToken', 'refreshToken'].flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

export type LogLevel = AppConfig['logLevel'];
type Level = Exclude<LogLevel, 'silent'>;

/**
 * What the stdout destination holds before it writes: about 20 access lines. Writing each line as
 * it came cost 6 µs of a license validation's CPU (a write(2) per request, `npm run bench`).
 */
export const LOG_BATCH_BYTES = 4096;
/**
 * And the longest a line waits when fewer come: SonicBoom's own unref'd timer writes what is
 * buffered (no fsync, nothing waits on it, so a stalled stdout piles nothing up).
 */
export const LOG_FLUSH_INTERVAL_MS = 1_000;

/**
 * The app's pino logger. Without a destination it writes to stdout through an asynchronous
 * SonicBoom that writes in batches of LOG_BATCH_BYTES, or every LOG_FLUSH_INTERVAL_MS when
 * fewer lines come, instead of blocking each request on write(2); pino flushes what is buffered
 * when the process exits, and the app flushes it when it closes (see app.setup.ts).
 */
export function createPino(level: LogLevel, destination?: DestinationStream): Pino {
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } },
    destination ?? pino.destination({ sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS }),
  );
}

/**
 * Nest's logs (its own and every `new Logger(context)`) as pino JSON lines over a given pino
 * instance: numeric level, time, pid, hostname, context, msg. The same class serves boot and the
 * running app, so a log shipper sees one format from the first line.
 */
export class PinoLoggerService implements LoggerService {
  constructor(readonly pino: Pino) {}

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

  /** Nest passes the context last and, for errors, a stack before it. */
  private write(level: Level, message: unknown, params: unknown[]) {
    if (!this.pino.isLevelEnabled(level)) return;
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
