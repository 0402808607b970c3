import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let list: Set<string> | undefined;

/** True when the password, ignoring case, is among the 10,000 most common (see data/README.md). */
export function isCommonPassword(password: string): boolean {
  list ??= new Set(
    readFileSync(join(__dirname, 'data/common-passwords.txt'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((entry) => entry.toLowerCase()),
  );
  return list.has(password.toLowerCase());
}
