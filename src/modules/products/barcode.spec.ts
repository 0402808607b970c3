import { describe, expect, it } from 'vitest';
import { isValidBarcode } from './barcode';

describe('isValidBarcode', () => {
  it.each(['4006381333931', '5901234123457', '96385074', '036000291452', '012345678905'])('accepts %s', (code) => {
    expect(isValidBarcode(code)).toBe(true);
  });

  it.each(['4006381333932', '96385075', '036000291453', '123', '40063813339310', 'ABCDEFGHIJKLM', ''])('refuses %s', (code) => {
    expect(isValidBarcode(code)).toBe(false);
  });
});
