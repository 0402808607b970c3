/**
 * The module graph of src/, enforced (issue 23). `npm run lint:deps`; part of `npm test`.
 *
 * Layers, lowest first; an arrow may only point down:
 *
 *   src/modules/<domain>/   the domains; one reaches another only through its public files
 *   src/common/<piece>/     infrastructure that knows no domain (auth pipeline, errors, http, mail, ...)
 *   src/db/                 the drizzle schema, columns, ids, pool and transactions
 *   src/lib/                plain helpers (TypeID ids, the cause-chain walk); beside config/ at the floor
 *   src/config/             the environment, parsed once at boot
 *
 * src/app.module.ts, main.ts, server.ts and the other top-level files wire everything together and
 * may import any layer; nothing below imports them.
 *
 * Unit specs (*.spec.ts) are not part of the runtime graph and are left out of the cruise.
 */

/** What another module may import from `src/modules/<b>/`: its Nest module (to list in `imports`),
 * the services it exports, its zod schemas and the types derived from them, and its typed events.
 * Repositories, mappers and helpers are the module's own. */
const PUBLIC_FILE = '^src/modules/[^/]+/[^/]+\\.(module|service|schemas|events)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file reaches itself through its imports, type-only imports included.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment:
        'No folder reaches itself: no cycle between two modules, between two common/ pieces, or between ' +
        'common/ and db/. A cycle of files in different folders is a hidden coupling even when no single file cycles.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'common-knows-no-domain',
      comment: 'common/ is infrastructure; the types it needs are defined in common/ (or db/), never in a module.',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'db-below-common',
      comment:
        'db/ is below common/: common/ (idempotency, mail, auth) may use the database, the database never uses common/ or a module. ' +
        'Row ids (db/ids.ts) and the owner scope of a query (db/owner-scope.ts) therefore live in db/.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/(common|modules)/' },
    },
    {
      name: 'config-is-the-floor',
      comment: 'config/ parses the environment and imports nothing else from src/.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(common|db|modules)/' },
    },
    {
      name: 'lib-is-the-floor',
      comment: 'lib/ holds plain helpers beside config/ at the floor: it imports nothing else from src/.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'nothing-imports-the-wiring',
      comment: 'The top-level files (app.module, app.setup, main, server, lifecycle) wire the layers; no layer imports them.',
      severity: 'error',
      from: { path: '^src/(common|db|config|modules)/' },
      to: { path: '^src/[^/]+\\.ts$' },
    },
    {
      name: 'module-public-surface',
      comment:
        'One module reaches another only through its public files: <b>.module.ts, *.service.ts, *.schemas.ts, *.events.ts. ' +
        "Another module's repository, mapper or helper is its private business: ask its service.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', PUBLIC_FILE] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    // Type-only imports couple modules as much as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
