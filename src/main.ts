import { join } from 'node:path';
import { loadBundle } from './bundle-loader';
import { codeCacheDir, enableNodeCompileCache } from './code-cache';

/**
 * The process entry: `node dist/main.js` (what `npm start` and the Docker image run), or
 * `src/main.ts` under swc in tests. The build (`npm run build`) leaves the whole server in one
 * file beside it, `server.bundle.js` (scripts/bundle.ts): started from that file, with its compiled
 * code cached, the server is ready in about half the CPU time that 1,600 separate modules take to
 * resolve, read and compile. Without a bundle (tests, `nest start --watch`), the modules
 * themselves. The server is the same either way: `src/server.ts`.
 */
const cacheDir = codeCacheDir(join(__dirname, '..'));
enableNodeCompileCache(cacheDir);
const bundle = loadBundle(__dirname, { cacheDir });
// eslint-disable-next-line @typescript-eslint/no-require-imports -- without a bundle, the server's modules are loaded here, not before
const server = (bundle?.exports ?? require('./server')) as typeof import('./server');
server.run(bundle && { file: bundle.file, codeCache: bundle.codeCache });
