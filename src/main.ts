import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { codeCacheDir, enableNodeCompileCache } from './code-cache';

/**
 * Two of V8's heap heuristics, set before any of the server is loaded; the third, the young
 * generation's size (`--max-semi-space-size=8`), is fixed when the heap is made, so it is on the
 * start command (package.json's start and start:prod, the Dockerfile; `npm run bench` reads
 * start:prod's). test/structure/start-command.spec.ts keeps the three places the same.
 *
 * `--heap-growing-percent=20`: a full collection once the old generation is 1.2 times what the
 * last one left alive (V8 lets it reach up to 4 times). It is not a limit: a heap with more live
 * data (a database outage filling the batch writers, GeoLite2 once a geo scope is used) still
 * grows. With the smaller young generation it held the peak RSS under the validate load at
 * 147-154 MB instead of 193-259 MB, at the same throughput (bench/README.md, session 10).
 *
 * Allocation-site pretenuring, off. When most objects of one allocation site survive a young
 * collection (a burst of slow requests is enough), V8 starts allocating that site's objects
 * straight in the old generation; those objects point at the rest of their request, which is then
 * kept through every young collection until the next full one. Under `npm run bench`'s validate
 * load that kept about 1 MB of each 12 MB young collection (`--trace-gc-nvp`: 961 KB promoted per
 * scavenge), and the old generation grew until a full GC. Off: 193 KB per scavenge, peak RSS 259 ->
 * 190-200 MB and about 80 µs less CPU per validation (bench/README.md, session 10). A request
 * server allocates almost nothing that lives long, which is what pretenuring is for. Set at run
 * time, before the server's code runs, so every way of starting it (npm start, the Docker image,
 * the bench) has it; the same as `node --no-allocation-site-pretenuring` (measured both ways).
 */
const V8_FLAGS = ['--no-allocation-site-pretenuring', '--heap-growing-percent=20'];
// An operator's own choice on the command line (`node --allocation-site-pretenuring …`) wins.
const named = (flag: string) => flag.replace(/^--(no-)?/, '').split('=')[0]!;
for (const flag of V8_FLAGS) if (!process.execArgv.some((arg) => named(arg) === named(flag))) setFlagsFromString(flag);

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
