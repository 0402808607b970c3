import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/config';
import { buildOpenApiDocument } from '../src/openapi';

export const OPENAPI_PATH = resolve(__dirname, '../openapi/openapi.json');

/** Writes openapi/openapi.json from the same builder the running app serves at /openapi.json. */
async function main() {
  Logger.overrideLogger(['error']);
  // The document does not depend on configuration; no database is contacted.
  const app = await createApp({
    config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'openapi-generation-only-0123456789abcdef' }),
    databaseUrl: 'postgres://openapi@127.0.0.1:1/openapi_test',
    migrate: false,
  });
  const document = buildOpenApiDocument(app);
  await app.close();
  mkdirSync(dirname(OPENAPI_PATH), { recursive: true });
  writeFileSync(OPENAPI_PATH, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`Wrote ${OPENAPI_PATH}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
