import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { SecretBox, SecretBoxKey } from './secret-box';

/**
 * The one SecretBox, keyed by DATA_ENCRYPTION_KEY (and opening with DATA_ENCRYPTION_PREVIOUS_KEYS),
 * or outside production by a key generated once into DATA_ENCRYPTION_KEY_FILE (as the license
 * signing key is): values sealed in development stay readable across restarts.
 */
@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('SecretBox');
        for (const name of config.dataEncryption.deprecatedNames) {
          logger.warn(`${name} is deprecated: rename it ${name.replace('WEBHOOK_SECRET_KEY', 'DATA_ENCRYPTION_KEY')} (the same value)`);
        }
        const { current, previous } = secretBoxKeys(config);
        return new SecretBox(current.key, current.version, previous);
      },
    },
  ],
  exports: [SecretBox],
})
export class CryptoModule {}

export function secretBoxKeys(config: AppConfig): { current: SecretBoxKey; previous: SecretBoxKey[] } {
  const { key, previousKeys, keyFile } = config.dataEncryption;
  const current = key ?? { version: 'v1', base64: developmentKey(resolve(keyFile)) };
  return { current: decode(current, keyFile), previous: previousKeys.map((previous) => decode(previous, keyFile)) };
}

function decode(entry: { version: string; base64: string }, keyFile: string): SecretBoxKey {
  const key = Buffer.from(entry.base64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`A data encryption key must be 32 bytes in base64 (key ${entry.version}, or ${keyFile}, holds ${key.length})`);
  return { version: entry.version, key };
}

function developmentKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    mkdirSync(dirname(file), { recursive: true });
    const key = randomBytes(32).toString('base64');
    try {
      writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
      new Logger('SecretBox').log(`Generated a development data encryption key in ${file}`);
      return key;
    } catch {
      // Another process created it first: use theirs.
      return readFileSync(file, 'utf8');
    }
  }
}
