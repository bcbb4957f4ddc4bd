// Differential test against nasm: random constant expressions over every operator, with
// values at the 32- and 64-bit edges, as `dq` data, must give nasm's exact bytes (shifts
// by any count, signed and unsigned division, comparisons, ?: and the logical operators).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mismatches, nasmBin, xenolabBin } from './nasm.js';

const RUNS = Number(process.env['XENOLAB_DIFF_RUNS'] ?? 60);

const number = fc.oneof(
  fc.integer({ min: 0, max: 20 }).map(String),
  fc.integer({ min: -5, max: -1 }).map((n) => `(${n})`),
  fc.constantFrom('0x7fffffff', '0x80000000', '0xffffffff', '0x100000000', '0x7fffffffffffffff', '0x8000000000000000', '0xffffffffffffffff'),
  fc.bigInt({ min: 1n, max: 1n << 40n }).map(String),
);
// Division and remainder by a divisor made positive and non-zero: nasm stops at a zero
// divisor (both do), and its own `//` of the smallest number by -1 crashes it.
const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    number,
    fc.tuple(fc.constantFrom('-', '~', '!', '+'), tie('e')).map(([op, a]) => `${op}${a}`),
    fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '<<', '>>', '>>>', '&', '|', '^', '&&', '||', '^^', '==', '!=', '<', '<=', '>', '>=', '<>'), tie('e'))
      .map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie('e'), fc.constantFrom('/', '//', '%', '%%'), tie('e')).map(([a, op, b]) => `(${a} ${op} ((${b}) & 0xffff | 1))`),
    fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, a, b]) => `(${c} ? ${a} : ${b})`),
  ),
})).e;

describe('constant expressions, as nasm evaluates them', () => {
  it('random expressions over every operator give nasm\'s bytes', () => {
    const lines = fc.sample(expr, { numRuns: RUNS * 4, seed: 7 }).map((e) => `  dq ${e}`);
    const source = ['bits 32', ...lines].join('\n') + '\n';
    const { result, bytes } = xenolabBin(source, 'e.asm');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(mismatches(result, bytes, nasmBin(source))).toEqual([]);
  });
});
