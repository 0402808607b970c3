/**
 * `node -r @swc-node/register bench/pipeline-stages.ts <app.cpuprofile> <requests> [bundle]`: the pipeline
 * table of bench/README.md. Reads a CPU profile of the app taken under load (`npm run bench` with
 * `BENCH_APP_NODE_ARGS='--cpu-prof --cpu-prof-dir=…'`) and prints, for each stage a request passes,
 * in order, the main thread's time in it divided by the requests served while profiling.
 *
 * Each sample is charged to one stage: the innermost frame of its stack that matches a stage (so
 * a socket write made while a query is sent counts as a socket write, not as the query), and the
 * stages add up to at most the thread's busy time. The figures are sampled wall time on the main thread (with the
 * machine shared by the load generator and PostgreSQL, a sample in a syscall may include time the
 * thread waited for a core), so they apportion the app's cost; its total CPU per request is the
 * bench's own figure.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The stages of POST /v1/licenses/validate and the other hot paths, in the order a request meets them. */
export const STAGES: { stage: string; frames: RegExp }[] = [
  { stage: 'HTTP parse (Node)', frames: /^parserOnHeadersComplete node:_http_common/ },
  { stage: 'routing (find-my-way)', frames: /^lookup .*find-my-way/ },
  { stage: 'onRequest hooks (request id, security headers, 405 table)', frames: /^hookRunner.*fastify\/lib\/hooks\.js/ },
  { stage: 'body read and JSON parse', frames: /^(onEnd|defaultJsonParser|rawBody) .*fastify\/lib\/content-type-parser\.js/ },
  { stage: 'route guard (throttle, authenticate, authorize, meter)', frames: /^admit .*route\.guard/ },
  { stage: 'validation pipe (zod)', frames: /^transform .*validation\.pipe/ },
  { stage: 'compiled route handler (RouteExecutor: arguments, call, send)', frames: /^serve .*route-executor/ },
  {
    stage: 'handler and service (licenses, access, products)',
    frames: /^(validate|verify|getAll|validateLicense|verifyAccess) .*(licenses|access|products|metering)\./,
  },
  { stage: 'Ed25519 certificate', frames: /^sign .*license-signer/ },
  { stage: 'pg / drizzle query', frames: /^(execute .*drizzle-orm|query .*pg\/lib\/client\.js|handleReadyForQuery .*pg\/lib)/ },
  { stage: 'response serializer (fast-json-stringify)', frames: /^(serialize|anonymous) .*(fast-json-stringify|fastify\/lib\/reply)/ },
  { stage: 'onSend hooks (cookie, idempotency)', frames: /^onSendHookRunner|fastifyCookieOnSendHandler/ },
  { stage: 'socket writes (the response, and queries to PostgreSQL)', frames: /^Socket\._writev? node:net|^writeGeneric|^writevGeneric/ },
  { stage: 'onResponse hooks (access line, key usage, meter)', frames: /^onResponseHookIterator|^onResFinished/ },
  { stage: 'garbage collection', frames: /^\(garbage collector\)/ },
];

/**
 * The source file of a line of the one-file server (dist/server.bundle.js): esbuild writes a
 * `// <path>` comment before each module it bundles, so a frame's bundle line names its module.
 */
function bundleSources(bundle: string | undefined): (line: number) => string | undefined {
  if (!bundle) return () => undefined;
  const marks: [number, string][] = [];
  readFileSync(bundle, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const mark = /^\/\/ (\S+\.(?:m?js|cjs|ts|json))$/.exec(text);
      if (mark) marks.push([line, mark[1]!]);
    });
  return (line) => {
    let low = 0;
    let high = marks.length - 1;
    let found: string | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (marks[middle]![0] <= line) {
        found = marks[middle]![1];
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  };
}

export function stageTimes(profile: Profile, bundle?: string): Map<string, number> {
  const sourceOf = bundleSources(bundle);
  const nameOf = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
    `${functionName || '(anonymous)'} ${(url.endsWith('server.bundle.js') && sourceOf(lineNumber)) || url}:${lineNumber}`;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const microseconds = new Map<string, number>();
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    const stack: string[] = [];
    for (let id: number | undefined = profile.samples[index]; id !== undefined; id = parent.get(id)) stack.push(nameOf(byId.get(id)!));
    // The stack runs from the sampled frame outwards: the first frame any stage claims is the innermost.
    for (const frame of stack) {
      const owner = STAGES.find(({ frames }) => frames.test(frame));
      if (!owner) continue;
      microseconds.set(owner.stage, (microseconds.get(owner.stage) ?? 0) + delta);
      break;
    }
  }
  return microseconds;
}

function main() {
  const [file, requests, bundle = 'dist/server.bundle.js'] = process.argv.slice(2);
  if (!file || !Number(requests)) throw new Error('usage: bench/pipeline-stages.ts <app.cpuprofile> <requests served while profiling> [bundle]');
  const times = stageTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile, bundle);
  const lines = ['| stage, in order | µs per request |', '|---|---|'];
  let total = 0;
  for (const { stage } of STAGES) {
    const perRequest = (times.get(stage) ?? 0) / Number(requests);
    total += perRequest;
    lines.push(`| ${stage} | ${perRequest.toFixed(0)} |`);
  }
  lines.push(`| **all stages** | **${total.toFixed(0)}** |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) main();
