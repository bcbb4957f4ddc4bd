// Floating-point constants against nasm: random decimal literals (long mantissas, halfway
// cases, the edges of every format: subnormals, the largest finite values, overflow) in
// db, dw, dd, dq and dt, and nasm's float and UTF functions, must give nasm's exact bytes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFloat, FLOAT_FORMATS } from '../src/float.js';
import { mismatches, nasmBin, xenolabBin } from './nasm.js';

const RUNS = Number(process.env['XENOLAB_DIFF_RUNS'] ?? 60);

/** Decimal digits, a point somewhere, an exponent near one of the formats' edges. */
const literal = fc.record({
  digits: fc.oneof(fc.stringMatching(/^[1-9][0-9]{0,4}$/), fc.stringMatching(/^[1-9][0-9]{15,30}$/), fc.constantFrom('1', '5', '25', '125', '65520', '2049', '2051', '16777217', '9007199254740993')),
  point: fc.nat(31),
  exponent: fc.oneof(fc.integer({ min: -12, max: 12 }), fc.constantFrom(-8, -5, -45, -46, -38, 38, 39, -308, -323, -324, 308, 309, -4932, -4950, -4951, 4932, 4933)),
  negative: fc.boolean(),
}).map(({ digits, point, exponent, negative }) => {
  const at = Math.min(point, digits.length);
  return `${negative ? '-' : ''}${digits.slice(0, at) || '0'}.${digits.slice(at)}e${exponent}`;
});

describe('floating-point data, as nasm writes it', () => {
  it('random literals in db, dw, dd, dq and dt', () => {
    // Leaving out values too large for the format: nasm writes those just past the largest
    // finite one with an all-ones exponent and their fraction (a NaN, and no warning); xenolab
    // writes an infinity and warns. Far past it, both write an infinity (the test below).
    const fits = (unit: string, value: string) => {
      const format = { db: FLOAT_FORMATS.float8, dw: FLOAT_FORMATS.float16, dd: FLOAT_FORMATS.float32, dq: FLOAT_FORMATS.float64, dt: FLOAT_FORMATS.float80 }[unit]!;
      return !encodeFloat(value.replace(/^-/, ''), false, format)!.overflow;
    };
    const lines = fc.sample(fc.tuple(fc.constantFrom('db', 'dw', 'dd', 'dq', 'dt'), fc.array(literal, { minLength: 1, maxLength: 4 })), { numRuns: RUNS * 4, seed: 11 })
      .map(([unit, values]) => [unit, values.filter((v) => fits(unit, v))] as const)
      .filter(([, values]) => values.length > 0)
      .map(([unit, values]) => `  ${unit} ${values.join(', ')}`);
    expect(lines.length).toBeGreaterThan(RUNS * 3);
    const source = ['bits 32', ...lines].join('\n') + '\n';
    const { result, bytes } = xenolabBin(source, 'f.asm');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(mismatches(result, bytes, nasmBin(source))).toEqual([]);
  });

  it('special values, the float and UTF functions, and string escapes', () => {
    const source = [
      'bits 32',
      'dd __?Infinity?__, -__Infinity__, __?QNaN?__, __?SNaN?__', 'dq __QNaN__, __SNaN__', 'dw __QNaN__, __SNaN__, __Infinity__', 'dt __QNaN__, __SNaN__, -__Infinity__',
      'mov eax, __?float32?__(1.5)', 'dd __float32__(-1.5), __FLOAT32__(1.0), __float32__(1.0e40)', 'dq __float64__(0.1)', 'dw __float16__(1.0), __?bfloat16?__(-2.5)',
      'db __float8__(1.5), __float8__(0.1)', 'dq __float80m__(1.0), __float128l__(0.1), __float128h__(0.1)', 'dw __float80e__(-1.5)',
      "dw __utf16__('aé'), __utf16be__('ab'), __utf16__(`\\U0001F600`)", 'dd __utf32__("x"), __utf32be__(`\\u263a`), 0', "db __utf16__('a')", "mov eax, __utf16__('ab')",
      'db `\\u263a`, `\\U0001F600`, `\\U00110000`, `\\U7FFFFFFF`, `\\UFFFFFFFF`, `\\u{1F600}`, `\\x4`, `\\x`, `\\xg`, `\\u26`',
      'dd 3., 3.e2, 1_000.5', 'dq 1e400, -3544902770372389058471229.e309', 'dd 1e39', 'dt 1e5000',
      // in hex, binary and octal: a point, and a power of two after p
      'dd 0x1.8p1, 0x1.8p+1, 0x1p-1, 0x10.8, 0x.8p1, 0x1P3, 0x1.8e1, 0x1_0.8p0, 0b1.1p1, 0o1.4p1, 0h1.8p1, 0q1.4p1',
      'dq 0x1p-1074, 0x1.fffffffffffffp1023', 'dw 0x1p16', 'dt 0x1.8p1, -0x1p-16445', 'dd 0x1f, 0h10, 0b101, 0q17, 0x1e+5',
    ].join('\n') + '\n';
    const { result, bytes } = xenolabBin(source, 'f.asm');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(Buffer.from(bytes).toString('hex')).toBe(nasmBin(source).toString('hex'));
  });

  it('a value exactly halfway goes towards zero, as nasm rounds (not to even)', () => {
    const half = (text: string) => Buffer.from(encodeFloat(text, false, FLOAT_FORMATS.float16)!.bytes).readUInt16LE(0);
    expect(half('2049.')).toBe(0x6800); // 2048
    expect(half('2051.')).toBe(0x6801); // 2050, where ties-to-even would give 2052
    expect(half('2051.0001')).toBe(0x6802);
    expect(encodeFloat('65520.', false, FLOAT_FORMATS.float16)!.overflow).toBe(false);
    expect(encodeFloat('65536.', false, FLOAT_FORMATS.float16)!.overflow).toBe(true);
  });

  it('bad arguments and unterminated strings are located errors', () => {
    const source = 'bits 32\ndd __float32__(1)\ndw __utf16__(5)\ndb `ab\\\ndb `\\`\n';
    const { result } = xenolabBin(source, 'f.asm');
    expect(result.diagnostics.map((d) => `${source.slice(d.span.start, d.span.end)}: ${d.message}`)).toEqual([
      '1: __float32__ expects a floating-point constant (such as 1.5 or 2e3)',
      '5: __utf16__ expects a string',
      '`ab\\: unterminated string',
      '`\\`: unterminated string',
    ]);
  });
});
