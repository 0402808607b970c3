import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '../../config/config';

/** Headers and fields whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['password', 'newPassword', 'token', 'secret', 'key', 'accessToken', 'refreshToken'].flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
          // requestIdFor() already stored the id on the raw request.
          genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id: string }).id,
          customAttributeKeys: { reqId: 'requestId' },
          serializers: {
            // Query strings can carry tokens (activation and reset links); log the path only.
            req: (req: { id: string; method: string; url: string; headers: unknown; remoteAddress?: string }) => ({
              id: req.id,
              method: req.method,
              url: req.url.split('?')[0],
              headers: req.headers,
              remoteAddress: req.remoteAddress,
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          quietReqLogger: true,
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
            error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        },
        // Liveness probes hit this every few seconds; logging each one drowns out real traffic.
        exclude: [{ method: RequestMethod.GET, path: 'health/live' }],
      }),
    }),
  ],
})
export class LoggingModule {}
