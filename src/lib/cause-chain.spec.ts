import { describe, expect, it } from 'vitest';
import { CAUSE_DEPTH, causeChain } from './cause-chain';

const wrapped = (message: string, cause?: unknown) => new Error(message, { cause });

describe('causeChain', () => {
  it('is the error and its causes, outermost first', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const query = wrapped('Failed query: select 1', socket);
    expect(causeChain(query)).toEqual([query, socket]);
    expect(causeChain(socket)).toEqual([socket]);
  });

  it('stops at a cause that is not an Error, and is empty for a thrown non-Error', () => {
    const error = wrapped('bad gateway', new Response(null, { status: 502 }));
    expect(causeChain(error)).toEqual([error]);
    expect(causeChain('a string')).toEqual([]);
    expect(causeChain(undefined)).toEqual([]);
  });

  it('ends a chain that leads back to an error it has seen (a cycle), listing each once', () => {
    const first = new Error('first');
    const second = wrapped('second', first);
    first.cause = second;
    expect(causeChain(first)).toEqual([first, second]);
    const self = new Error('self');
    self.cause = self;
    expect(causeChain(self)).toEqual([self]);
  });

  it(`follows at most ${CAUSE_DEPTH} errors, or the depth asked for`, () => {
    let error = new Error('0');
    for (let i = 1; i < 50; i++) error = wrapped(String(i), error);
    expect(causeChain(error).map((link) => link.message)).toEqual(['49', '48', '47', '46', '45']);
    expect(causeChain(error, 2).map((link) => link.message)).toEqual(['49', '48']);
  });
});
