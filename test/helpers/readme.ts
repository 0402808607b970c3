import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const SKIP_MARKER = '# not run by the README test:';

export interface ReadmeBlock {
  /** The line its opening fence is on. */
  line: number;
  code: string;
  /** The heading it is under, without its #s. */
  section: string;
}

/**
 * README sections whose blocks a test of their own runs, because they need more than one started
 * server (test/e2e/readme-examples.e2e-spec.ts runs every other block).
 */
export const SECTIONS_RUN_ELSEWHERE: Record<string, string> = {
  'Stripe in development': 'test/e2e/stripe-dev-readme.e2e-spec.ts',
};

/** Every ```sh block of the README, with the line it starts on and the heading it is under. */
export function readmeShellBlocks(markdown = readFileSync(join(ROOT, 'README.md'), 'utf8')): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = markdown.split('\n');
  let section = '';
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith('```')) {
      const end = lines.findIndex((candidate, at) => at > index && candidate === '```');
      if (line === '```sh') blocks.push({ line: index + 1, code: lines.slice(index + 1, end).join('\n') + '\n', section });
      index = end;
      continue;
    }
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading) section = heading[1]!;
  }
  return blocks;
}

export const isSkipped = (block: ReadmeBlock) => block.code.startsWith(SKIP_MARKER);
