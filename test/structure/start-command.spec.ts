import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

/** The node flags of each way the server is started: `node <flags> dist/main.js`. */
function nodeFlags(command: string): string[] | undefined {
  const match = /\bnode((?: --\S+)*) dist\/main\.js\b/.exec(command);
  return match ? match[1]!.split(' ').filter(Boolean) : undefined;
}

/**
 * The young generation's size is fixed when V8 makes the heap, so it is a flag on the start
 * command rather than in src/main.ts (which sets the heuristics V8 reads at run time). The places
 * that start the server run the same flags, and `npm run bench` reads start:prod's.
 */
describe('the start command', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];

  it('npm start, npm run start:prod and the Docker image run node with the same flags: a 8 MB semi-space', () => {
    const flags = ['--max-semi-space-size=8'];
    expect(nodeFlags(scripts['start:prod'] ?? '')).toEqual(flags);
    expect(nodeFlags(scripts.start ?? '')).toEqual(flags);
    expect(cmd && nodeFlags((JSON.parse(cmd) as string[]).join(' '))).toEqual(flags);
  });

  it("npm run bench starts the app with start:prod's flags", () => {
    expect(readFileSync(join(ROOT, 'bench/run.ts'), 'utf8')).toMatch(/startServer\('app', \[\.\.\.START_FLAGS, \.\.\.APP_NODE_ARGS, 'dist\/main\.js'\]/);
  });
});
