import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { SecretBox } from './secret-box';

/**
 * The one SecretBox, keyed by WEBHOOK_SECRET_KEY, or outside production by a key generated once
 * into WEBHOOK_SECRET_KEY_FILE (as the license signing key is): values sealed in development
 * stay readable across restarts.
 */
@Global()
@Module({
  providers: [{ provide: SecretBox, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new SecretBox(secretBoxKey(config)) }],
  exports: [SecretBox],
})
export class CryptoModule {}

export function secretBoxKey(config: AppConfig): Buffer {
  const base64 = config.webhooks.secretKey ?? developmentKey(resolve(config.webhooks.secretKeyFile));
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`The webhook secret key must be 32 bytes in base64 (${config.webhooks.secretKeyFile} holds ${key.length})`);
  return key;
}

function developmentKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    mkdirSync(dirname(file), { recursive: true });
    const key = randomBytes(32).toString('base64');
    try {
      writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
      new Logger('SecretBox').log(`Generated a development webhook secret key in ${file}`);
      return key;
    } catch {
      // Another process created it first: use theirs.
      return readFileSync(file, 'utf8');
    }
  }
}
