import { statSync } from 'node:fs';
import { join } from 'node:path';
import { codeCacheDir, enableNodeCompileCache } from './code-cache';

/** The one-file server that scripts/bundle.ts writes beside dist/main.js. */
const BUNDLE = join(__dirname, 'server.bundle.js');

/** A bundle at least as new as the compiled server beside it: never one left by an earlier build. */
function isCurrentBundle(): boolean {
  const modified = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;
  const bundle = modified(BUNDLE);
  const compiled = modified(join(__dirname, 'server.js')) ?? 0;
  return bundle !== undefined && bundle >= compiled;
}

/**
 * The process entry: `node dist/main.js` (what `npm start` and the Docker image run), or
 * `src/main.ts` under swc in tests. The build (`npm run build`) leaves the whole server in one
 * file beside it, `server.bundle.js` (scripts/bundle.ts), which is required instead of 1,600
 * separate modules: their resolution and reads were a fifth of the start-up. Without a bundle
 * (tests, `nest start --watch`), the modules themselves. The server is the same either way:
 * `src/server.ts`.
 */
enableNodeCompileCache(codeCacheDir(join(__dirname, '..')));
const bundled = isCurrentBundle();
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the server's modules are loaded here, from the bundle when there is one
const server = (bundled ? require(BUNDLE) : require('./server')) as typeof import('./server');
server.run(bundled ? { file: BUNDLE } : undefined);
