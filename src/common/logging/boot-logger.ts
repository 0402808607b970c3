import pino from 'pino';
import type { AppConfig } from '../../config/config';
import { PinoLoggerService, REDACTED_PATHS } from './pino-logger';

/**
 * The Nest logger for everything logged before the app's own exists: config errors, embedded
 * Postgres, migrations. Synchronous, so a fatal line is out before the process exits; the running
 * app logs through an asynchronous destination instead (createPino).
 */
export class BootLogger extends PinoLoggerService {
  constructor(level: AppConfig['logLevel'] = 'info', destination?: pino.DestinationStream) {
    const options = { level, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } };
    super(destination ? pino(options, destination) : pino(options));
  }
}
