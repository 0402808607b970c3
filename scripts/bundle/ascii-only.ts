import { tokenizer, tokTypes } from 'acorn';

/**
 * The bundle with every character above U+007F written as a `\uXXXX` escape.
 *
 * V8 keeps a script's whole source in the heap for as long as the script lives (lazy compilation
 * and `Function.prototype.toString` read it), and a source with a single character above U+00FF
 * is stored two bytes per character: about 60 of them (packages' JSDoc, a Turkish letter class)
 * made the 8 MB bundle a 16.6 MB string in a heap snapshot under load.
 *
 * esbuild already escapes strings, templates and identifiers; what it leaves raw is comments and
 * regular expressions. There, and only there, an escape means the same: nothing in a comment, the
 * same character in a regular expression (a pair of escaped surrogates is one code point under
 * the `u` flag), except right after a backslash (`/\é/` would become a match for `\u00e9` as
 * text). Anywhere else (a tagged template's raw text, a future esbuild that leaves other
 * characters raw) the build stops and names the place, rather than change what the code does.
 */
export function asciiOnly(code: string): string {
  if (!/[\u0080-\uffff]/.test(code)) return code;
  const safe: Array<[start: number, end: number]> = [];
  const tokens = tokenizer(code, {
    ecmaVersion: 'latest',
    sourceType: 'script',
    allowHashBang: true,
    allowReturnOutsideFunction: true,
    onComment: (_block, _text, start, end) => safe.push([start, end]),
  });
  for (const token of tokens) if (token.type === tokTypes.regexp) safe.push([token.start, token.end]);
  safe.sort((a, b) => a[0] - b[0]);
  const isSafe = (at: number) => {
    let low = 0;
    let high = safe.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const [start, end] = safe[middle]!;
      if (at < start) high = middle - 1;
      else if (at >= end) low = middle + 1;
      else return true;
    }
    return false;
  };
  return code.replace(/[\u0080-\uffff]/g, (char, at: number) => {
    if (!isSafe(at) || code[at - 1] === '\\') {
      const line = code.slice(0, at).split('\n').length;
      throw new Error(
        `bundle: a non-ASCII character (U+${char.charCodeAt(0).toString(16).padStart(4, '0')}) on line ${line} is outside a comment or a regular expression`,
      );
    }
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
