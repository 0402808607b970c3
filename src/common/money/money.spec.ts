import { describe, expect, it } from 'vitest';
import { formatMoney, grossOf, moneyNumber, parseMoney, parseRate } from './money';

describe('money', () => {
  it('parses and formats decimal strings exactly', () => {
    expect(parseMoney('207.50')).toBe(20750);
    expect(parseMoney('207.5')).toBe(20750);
    expect(parseMoney('0.07')).toBe(7);
    expect(parseMoney('999999999999.99')).toBe(99_999_999_999_999);
    expect(formatMoney(20750)).toBe('207.50');
    expect(formatMoney(7)).toBe('0.07');
    expect(formatMoney(99_999_999_999_999)).toBe('999999999999.99');
    for (const bad of ['-1', '1.234', '01', '1e3', ' 1', '1,00', '', '.5', 'NaN']) expect(parseMoney(bad), bad).toBeUndefined();
  });

  it('computes gross = net × (1 + vat/100), rounded half-up', () => {
    expect(formatMoney(grossOf(parseMoney('207.50')!, parseRate('20')!))).toBe('249.00');
    // 0.05 × 1.10 = 0.055 -> 0.06 (half-up), where binary floats give 0.05500000000000001 or 0.054999…
    expect(formatMoney(grossOf(5, parseRate('10')!))).toBe('0.06');
    // 1.15 × 1.18 = 1.357 -> 1.36
    expect(formatMoney(grossOf(115, parseRate('18')!))).toBe('1.36');
    // 0.25 × 1.01 = 0.2525 -> 0.25; 0.50 × 1.01 = 0.505 -> 0.51
    expect(formatMoney(grossOf(25, parseRate('1')!))).toBe('0.25');
    expect(formatMoney(grossOf(50, parseRate('1')!))).toBe('0.51');
    // 10.05 × 1.075 = 10.80375 -> 10.80; 1.00 × 1.005 = 1.005 -> 1.01
    expect(formatMoney(grossOf(1005, parseRate('7.5')!))).toBe('10.80');
    expect(formatMoney(grossOf(100, parseRate('0.5')!))).toBe('1.01');
    expect(formatMoney(grossOf(99_999_999_999_999, parseRate('100')!))).toBe('1999999999999.98');
    expect(grossOf(1234, 0)).toBe(1234);
  });

  it('reads VAT rates as percentages with two places, up to 100', () => {
    expect(parseRate('20.00')).toBe(2000);
    expect(parseRate('7.5')).toBe(750);
    expect(parseRate('100')).toBe(10_000);
    for (const bad of ['100.01', '-1', '20.001', 'x']) expect(parseRate(bad), bad).toBeUndefined();
  });

  it('gives JSON numbers that read as the decimal string does', () => {
    expect(moneyNumber(20750)).toBe(207.5);
    expect(JSON.stringify({ PriceGross: moneyNumber(24900) })).toBe('{"PriceGross":249}');
    expect(moneyNumber(1)).toBe(0.01);
  });
});
