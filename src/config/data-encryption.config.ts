import { z } from 'zod';

/** One AES-256-GCM key and the version its sealed values carry (`v1.…`). */
export interface EncryptionKey {
  version: string;
  base64: string;
}

/** The keys of the SecretBox, which seals what must be read back: webhook and TOTP secrets, idempotent responses, OIDC state. */
export interface DataEncryptionConfig {
  /** Seals new values and opens its own; unset outside production: generated into `keyFile`. */
  key: EncryptionKey | undefined;
  /** Open values sealed before a rotation; never seal. */
  previousKeys: EncryptionKey[];
  keyFile: string;
  /** The deprecated variables this environment still uses, for a warning at boot. */
  deprecatedNames: string[];
}

const KEY = /^(?:(v[1-9][0-9]{0,5}):)?([A-Za-z0-9+/]{43}=)$/;
const DEFAULT_KEY_FILE = '.data/webhook-secret-key';

/** `<base64>` (version v1, what every value sealed before versions were configurable carries) or `v<n>:<base64>`. */
export const encryptionKeyEnv = z
  .string()
  .trim()
  .regex(KEY, 'must be 32 random bytes in base64 (openssl rand -base64 32), optionally after a version such as v2:');

function parseKey(raw: string): EncryptionKey {
  const [, version, base64] = KEY.exec(raw.trim())!;
  return { version: version ?? 'v1', base64: base64! };
}

interface EncryptionEnv {
  NODE_ENV: string;
  DATA_ENCRYPTION_KEY?: string;
  DATA_ENCRYPTION_PREVIOUS_KEYS: string[];
  DATA_ENCRYPTION_KEY_FILE?: string;
  WEBHOOK_SECRET_KEY?: string;
  WEBHOOK_SECRET_KEY_FILE?: string;
}

/**
 * DATA_ENCRYPTION_KEY, or its deprecated name WEBHOOK_SECRET_KEY (the key never sealed only webhook
 * secrets). Both set to different keys is refused: which one sealed the stored values cannot be
 * guessed, and guessing wrong makes them unreadable. Each problem is pushed to `problems`.
 */
export function parseDataEncryption(env: EncryptionEnv, problems: string[]): DataEncryptionConfig {
  const deprecatedNames = (['WEBHOOK_SECRET_KEY', 'WEBHOOK_SECRET_KEY_FILE'] as const).filter((name) => env[name] !== undefined);
  const current = env.DATA_ENCRYPTION_KEY !== undefined ? parseKey(env.DATA_ENCRYPTION_KEY) : undefined;
  const legacy = env.WEBHOOK_SECRET_KEY !== undefined ? parseKey(env.WEBHOOK_SECRET_KEY) : undefined;
  if (current && legacy && (current.version !== legacy.version || current.base64 !== legacy.base64)) {
    problems.push(
      'DATA_ENCRYPTION_KEY, WEBHOOK_SECRET_KEY: both set, to different keys. WEBHOOK_SECRET_KEY is the deprecated name of DATA_ENCRYPTION_KEY: ' +
        'keep the key that sealed the stored values in DATA_ENCRYPTION_KEY and unset WEBHOOK_SECRET_KEY (to rotate, list the old key in DATA_ENCRYPTION_PREVIOUS_KEYS)',
    );
  }
  if (env.DATA_ENCRYPTION_KEY_FILE !== undefined && env.WEBHOOK_SECRET_KEY_FILE !== undefined && env.DATA_ENCRYPTION_KEY_FILE !== env.WEBHOOK_SECRET_KEY_FILE) {
    problems.push('DATA_ENCRYPTION_KEY_FILE, WEBHOOK_SECRET_KEY_FILE: both set, to different files; WEBHOOK_SECRET_KEY_FILE is the deprecated name: unset it');
  }
  const key = current ?? legacy;
  if (env.NODE_ENV === 'production' && !key) {
    problems.push('DATA_ENCRYPTION_KEY: required in production (32 bytes, base64; WEBHOOK_SECRET_KEY is its deprecated name)');
  }
  const previousKeys = env.DATA_ENCRYPTION_PREVIOUS_KEYS.map(parseKey);
  if (previousKeys.length > 0 && !key) problems.push('DATA_ENCRYPTION_PREVIOUS_KEYS: set DATA_ENCRYPTION_KEY too (the key that seals from now on)');
  const versions = [key?.version ?? 'v1', ...previousKeys.map((previous) => previous.version)];
  const repeated = versions.filter((version, index) => versions.indexOf(version) !== index);
  if (repeated.length > 0) {
    problems.push(
      `DATA_ENCRYPTION_PREVIOUS_KEYS: version ${[...new Set(repeated)].join(', ')} named twice; each key needs its own version (write the new key as v2:<base64>)`,
    );
  }
  return { key, previousKeys, keyFile: env.DATA_ENCRYPTION_KEY_FILE ?? env.WEBHOOK_SECRET_KEY_FILE ?? DEFAULT_KEY_FILE, deprecatedNames };
}
