// The debugger's expression language: syntax, 32-bit unsigned semantics, lookups
// through the context, error columns, and robustness against arbitrary input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluate,
  evaluateExpression,
  parseExpression,
  REGISTER_NAMES,
  type ExprContext,
} from '../src/expr.js';

const RUNS = Number(process.env['XENOLAB_FUZZ_RUNS'] ?? 300);

const REGS = new Map<string, number>(Object.entries({
  eax: 0x12345678, ebx: 0x1000, ecx: 3, edx: 0xffffffff, esi: 0x1004, edi: 0, ebp: 0x8000, esp: 0x7ff0,
  ax: 0x5678, al: 0x78, ah: 0x56, eip: 0xc0001000, eflags: 0x246, cs: 0xe019, cr3: 0x00abc000,
  zf: 1, cf: 0, if: 1, $: 0xc0001000,
}));

const SYMBOLS = new Map<string, number>(Object.entries({
  start: 0xc0001000, 'func.loop': 0xc0001010, '.loop': 0xc0001020, counter: 0x1008, 'a_b@c?d$e': 42,
}));

/** A fake guest: registers, symbols and one mapped page at 0x1000, counting reads. */
function makeContext(): ExprContext & { reads: number } {
  const page = new Uint8Array(0x1000);
  page.set([0x78, 0x56, 0x34, 0x12, 0x00, 0x10, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde]);
  page.set([0xaa, 0xbb], 0xffe);
  const ctx = {
    reads: 0,
    register: (name: string) => REGS.get(name),
    symbol: (name: string) => SYMBOLS.get(name),
    read(address: number, size: 1 | 2 | 4): number | null {
      ctx.reads++;
      let value = 0;
      for (let i = size - 1; i >= 0; i--) {
        const a = address + i;
        if (a < 0x1000 || a >= 0x2000) return null;
        value = value * 256 + page[a - 0x1000];
      }
      return value;
    },
  };
  return ctx;
}

function value(text: string, ctx: ExprContext = makeContext()): number {
  const r = evaluate(text, ctx);
  if (!r.ok) throw new Error(`${text}: ${r.error.message} at ${r.error.column}`);
  return r.value;
}

function error(text: string, ctx: ExprContext = makeContext()): { message: string; column: number } {
  const r = evaluate(text, ctx);
  if (r.ok) throw new Error(`${text}: expected an error, got ${r.value}`);
  return r.error;
}

describe('precedence and associativity', () => {
  // Values worked out by hand with C precedence and 32-bit unsigned arithmetic.
  const table: [string, number][] = [
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['100 / (10 / 5)', 50],
    ['17 % 5 * 2', 4],
    ['2 * 17 % 5', 4],
    ['1 << 2 + 1', 8],
    ['256 >> 2 >> 1', 32],
    ['1 + 2 << 3', 24],
    ['1 < 2 == 1', 1],
    ['3 > 2 > 1', 0],
    ['1 == 2 < 3', 1],
    ['6 & 3 == 3', 0],
    ['(6 & 3) == 2', 1],
    ['1 | 2 ^ 3', 1],
    ['1 ^ 3 & 2', 3],
    ['5 & 4 | 2 ^ 2', 4],
    ['1 || 0 && 0', 1],
    ['(1 || 0) && 0', 0],
    ['0 || 5', 1],
    ['3 && 4', 1],
    ['-2 * 3', 0xfffffffa],
    ['- -5', 5],
    ['~0', 0xffffffff],
    ['~0 >> 28', 15],
    ['!0 + !7', 1],
    ['!!9', 1],
    ['+3 - +1', 2],
    ['-(1 + 2) * -1', 3],
    ['2 + 3 * 4 - 10 / 2 % 3', 12],
    ['1 + 2 * 3 << 1 < 20 == 1 & 3 ^ 1 | 4 && 1 || 0', 1],
    ['((((7))))', 7],
  ];
  it.each(table)('%s = %d', (text, expected) => {
    expect(value(text)).toBe(expected);
  });
});

describe('numbers', () => {
  const table: [string, number][] = [
    ['0', 0],
    ['123', 123],
    ['4294967295', 0xffffffff],
    ['0x1f', 0x1f],
    ['0X1F', 0x1f],
    ['0h1f', 0x1f],
    ['1fh', 0x1f],
    ['0ffh', 0xff],
    ['0FFH', 0xff],
    ['1fx', 0x1f],
    ['0dh', 0x0d],
    ['0bh', 0x0b],
    ['0x1b', 0x1b],
    ['0x1d', 0x1d],
    ['0b101', 5],
    ['0y101', 5],
    ['101b', 5],
    ['101y', 5],
    ['0o17', 15],
    ['0q17', 15],
    ['17q', 15],
    ['17o', 15],
    ['0d99', 99],
    ['99d', 99],
    ['0t99', 99],
    ['0x_c000_0000', 0xc0000000],
    ['1_000', 1000],
    ['0b1111_0000', 0xf0],
    ['0ffff_ffffh', 0xffffffff],
    ["'A'", 0x41],
    ["'AB'", 0x4241],
    ["'ABCD'", 0x44434241],
    ['"ab"', 0x6261],
    ["''", 0],
    ["' '", 0x20],
    ["'\u00e9'", 0xa9c3],
  ];
  it.each(table)('%s = %d', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it('rejects malformed numbers with their column', () => {
    expect(error('0xg')).toEqual({ message: "number '0xg' is not valid", column: 0 });
    expect(error('1 + 0xg')).toEqual({ message: "number '0xg' is not valid", column: 4 });
    expect(error('12ab')).toEqual({ message: "number '12ab' is not valid", column: 0 });
    expect(error('0b102')).toEqual({ message: "number '0b102' is not valid", column: 0 });
    expect(error('19q')).toEqual({ message: "number '19q' is not valid", column: 0 });
    expect(error('1.5')).toEqual({ message: "number '1.5' is not valid", column: 0 });
    expect(error('0x_')).toEqual({ message: "number '0x_' is not valid", column: 0 });
    expect(error('0x100000000')).toEqual({ message: "number '0x100000000' does not fit in 32 bits", column: 0 });
    expect(error('4294967296')).toEqual({ message: "number '4294967296' does not fit in 32 bits", column: 0 });
  });

  it('rejects bad character constants', () => {
    expect(error("'ABCDE'")).toEqual({ message: "character constant 'ABCDE' is longer than 4 bytes", column: 0 });
    expect(error("1 + 'AB")).toEqual({ message: 'unterminated character constant', column: 4 });
  });
});

describe('registers, flags, symbols and $', () => {
  it('reads registers case-insensitively', () => {
    expect(value('eax')).toBe(0x12345678);
    expect(value('EAX')).toBe(0x12345678);
    expect(value('Ax')).toBe(0x5678);
    expect(value('al + ah')).toBe(0x78 + 0x56);
    expect(value('eip')).toBe(0xc0001000);
    expect(value('eflags & 0x40')).toBe(0x40);
    expect(value('cs')).toBe(0xe019);
    expect(value('cr3 >> 12')).toBe(0xabc);
    expect(value('edx + 1')).toBe(0);
  });

  it('reads flags', () => {
    expect(value('zf')).toBe(1);
    expect(value('cf')).toBe(0);
    expect(value('zf && !cf')).toBe(1);
    expect(value('IF')).toBe(1);
  });

  it('takes $ as eip, falling back to the eip register', () => {
    expect(value('$')).toBe(0xc0001000);
    expect(value('$ - start')).toBe(0);
    const noDollar: ExprContext = { ...makeContext(), register: (n) => (n === '$' ? undefined : REGS.get(n)) };
    expect(value('$ + 4', noDollar)).toBe(0xc0001004);
  });

  it('resolves symbols, including NASM local labels', () => {
    expect(value('start')).toBe(0xc0001000);
    expect(value('func.loop - start')).toBe(0x10);
    expect(value('.loop')).toBe(0xc0001020);
    expect(value('a_b@c?d$e')).toBe(42);
  });

  it('names an unknown symbol or unavailable register', () => {
    expect(error('1 + nosuch')).toEqual({ message: "unknown symbol 'nosuch'", column: 4 });
    expect(error('Start')).toEqual({ message: "unknown symbol 'Start'", column: 0 });
    expect(error('eax + cr4')).toEqual({ message: "register 'cr4' is not available", column: 6 });
  });

  it('exposes the register and flag names', () => {
    for (const name of ['eax', 'sp', 'dh', 'eip', 'eflags', 'gs', 'cr0', 'cr4', 'of', 'if']) {
      expect(REGISTER_NAMES).toContain(name);
    }
    expect(REGISTER_NAMES).toHaveLength(45);
    expect(new Set(REGISTER_NAMES).size).toBe(REGISTER_NAMES.length);
  });

  it('classifies names at parse time', () => {
    const r = parseExpression('EAX + foo + $');
    expect(r.ok && r.expr).toMatchObject({
      kind: 'binary',
      op: '+',
      left: { kind: 'binary', left: { kind: 'register', name: 'eax' }, right: { kind: 'symbol', name: 'foo' } },
      right: { kind: 'register', name: '$', column: 12 },
    });
  });
});

describe('memory', () => {
  it('reads each size little-endian', () => {
    expect(value('[0x1000]')).toBe(0x12345678);
    expect(value('dword [0x1000]')).toBe(0x12345678);
    expect(value('word [0x1000]')).toBe(0x5678);
    expect(value('byte [0x1003]')).toBe(0x12);
    expect(value('BYTE [ebx + 1]')).toBe(0x56);
    expect(value('Word[ebx+2]')).toBe(0x1234);
    expect(value('[counter]')).toBe(0xdeadbeef);
  });

  it('nests memory reads', () => {
    expect(value('[[esi]]')).toBe(0x12345678);
    expect(value('byte [[0x1004] + 8]')).toBe(0xef);
    expect(value('[ebx] == eax')).toBe(1);
  });

  it('reports unmapped addresses in hex at the [', () => {
    expect(error('[0]')).toEqual({ message: 'address 0x00000000 is not mapped', column: 0 });
    expect(error('2 * [0x5000]')).toEqual({ message: 'address 0x00005000 is not mapped', column: 4 });
    expect(error('1 + byte [0xc0000000]')).toEqual({ message: 'address 0xc0000000 is not mapped', column: 9 });
    // Straddling the end of the page: the whole read fails.
    expect(value('word [0x1ffe]')).toBe(0xbbaa);
    expect(error('dword [0x1ffe]')).toEqual({ message: 'address 0x00001ffe is not mapped', column: 6 });
  });

  it('short-circuits && and || without reading memory', () => {
    const ctx = makeContext();
    expect(value('0 && [0]', ctx)).toBe(0);
    expect(value('1 || [0]', ctx)).toBe(1);
    expect(value('edi && byte [edi]', ctx)).toBe(0);
    expect(value('ecx == 3 || [nosuch]', ctx)).toBe(1);
    expect(ctx.reads).toBe(0);
    expect(value('1 && [ebx]', ctx)).toBe(1);
    expect(ctx.reads).toBe(1);
    expect(error('1 && [0]', ctx).column).toBe(5);
  });
});

describe('32-bit unsigned arithmetic', () => {
  it('wraps around', () => {
    expect(value('0 - 1')).toBe(0xffffffff);
    expect(value('0 - 1 == 0xffffffff')).toBe(1);
    expect(value('0xffffffff + 1')).toBe(0);
    expect(value('0xffffffff + 1 == 0')).toBe(1);
    expect(value('0x10000 * 0x10000')).toBe(0);
    expect(value('0xffffffff * 0xffffffff')).toBe(1);
    expect(value('-0x80000000')).toBe(0x80000000);
  });

  it('divides and shifts unsigned', () => {
    expect(value('-1 / 2')).toBe(0x7fffffff);
    expect(value('0xffffffff / 0xfffffffe')).toBe(1);
    expect(value('0xffffffff % 10')).toBe(5);
    expect(value('-8 >> 1')).toBe(0x7ffffffc);
    expect(value('1 << 31')).toBe(0x80000000);
    expect(value('1 << 32')).toBe(0);
    expect(value('-1 >> 32')).toBe(0);
    expect(value('-1 >> 31')).toBe(1);
  });

  it('compares unsigned', () => {
    expect(value('-1 > 0')).toBe(1);
    expect(value('-1 < 0')).toBe(0);
    expect(value('0x80000000 >= 0x7fffffff')).toBe(1);
    expect(value('edx <= 0')).toBe(0);
    expect(value('2 != 2')).toBe(0);
  });

  it('reports division by zero at the operator', () => {
    expect(error('1 / 0')).toEqual({ message: 'division by zero', column: 2 });
    expect(error('1 + 4 % (eax - eax)')).toEqual({ message: 'division by zero', column: 6 });
    expect(value('0 && 1 / 0')).toBe(0);
  });
});

describe('syntax errors', () => {
  const table: [string, string, number][] = [
    ['', 'empty expression', 0],
    ['   ', 'empty expression', 0],
    ['1 +', 'unexpected end of expression', 3],
    ['(1 + 2', "expected ')'", 6],
    ['(1 2)', "expected ')'", 3],
    ['[eax', "expected ']'", 4],
    ['[eax)', "expected ']'", 4],
    ['1 + 2)', "trailing input ')'", 5],
    ['eax ebx', "trailing input 'ebx'", 4],
    ['foo bar', "trailing input 'bar'", 4],
    ['* 2', "unexpected '*'", 0],
    ['1 + ]', "unexpected ']'", 4],
    ['()', "unexpected ')'", 1],
    ['1 # 2', "unexpected '#'", 2],
    ['eax = 1', "unexpected '=' (did you mean '=='?)", 4],
    ['ds:[0]', "unexpected ':'", 2],
    ['byte eax', "expected '[' after 'byte'", 5],
    ['dword', "expected '[' after 'dword'", 5],
    ['$$', "unexpected '$$'", 0],
    ['1 + \u00e9', "unexpected '\u00e9'", 4],
    ['\u{1f600}', "unexpected '\u{1f600}'", 0],
  ];
  it.each(table)('%j: %s at %d', (text, message, column) => {
    const r = parseExpression(text);
    expect(r).toEqual({ ok: false, error: { message, column } });
  });

  it('cuts long tokens short in messages', () => {
    const name = 'x'.repeat(1000);
    expect(error(`1 ${name}`).message).toBe(`trailing input '${'x'.repeat(24)}…'`);
  });

  it('refuses deep nesting and long chains instead of overflowing the stack', () => {
    const deep = (n: number) => '('.repeat(n) + '1' + ')'.repeat(n);
    expect(value(deep(200))).toBe(1);
    expect(error(deep(100_000)).message).toMatch(/nested too deeply/);
    expect(error('-'.repeat(100_000) + '1').message).toMatch(/nested too deeply/);
    expect(error('['.repeat(100_000)).message).toMatch(/nested too deeply/);
    expect(error('1+'.repeat(100_000) + '1').message).toMatch(/nested too deeply/);
    expect(value('1+'.repeat(200) + '1')).toBe(201);
    expect(error('1 '.repeat(100_000)).message).toBe("trailing input '1'");
    // Every precedence level opened at every parenthesis level: the recursion is bounded too.
    const ladder = (n: number) => '1||1&&1|1^1&1==1<1<<1+1*('.repeat(n) + '1' + ')'.repeat(n);
    expect(value(ladder(5))).toBe(1);
    expect(error(ladder(100_000)).message).toMatch(/nested too deeply/);
  });

  it('evaluates a parsed expression repeatedly', () => {
    const r = parseExpression('[esi] + ecx');
    if (!r.ok) throw new Error(r.error.message);
    expect(evaluateExpression(r.expr, makeContext())).toEqual({ ok: true, value: 0x1003 });
    const other: ExprContext = { ...makeContext(), register: (n) => (n === 'ecx' ? 7 : REGS.get(n)) };
    expect(evaluateExpression(r.expr, other)).toEqual({ ok: true, value: 0x1007 });
  });
});

// ---------------------------------------------------------------------------------
// Properties

const ALPHABET = [
  ...'0123456789abcdefhoqxyABFHX_ .@?$()[]+-*/%<>=!&|^~\'"#:,;\t\n',
  'eax', 'al', 'zf', 'byte ', 'word ', 'dword ', 'start', 'counter', '<<', '>>', '&&', '||', '0x', '\u00e9',
];

describe('robustness', () => {
  function check(text: string): void {
    const ctx = makeContext();
    const r = evaluate(text, ctx);
    if (!r.ok) {
      expect(r.error.message.length).toBeGreaterThan(0);
      expect(r.error.column).toBeGreaterThanOrEqual(0);
      expect(r.error.column).toBeLessThanOrEqual(text.length);
    } else {
      expect(r.value >>> 0).toBe(r.value);
    }
  }

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), check), { numRuns: RUNS });
  });

  it('never throws on strings of expression-like pieces', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 60 }), check), { numRuns: RUNS * 3 });
  });
});

type Unary = '-' | '~' | '!' | '+';
type Binary = '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&' | '^' | '|' | '&&' | '||';
type Node =
  | { kind: 'leaf'; value: number; format: number }
  | { kind: 'unary'; op: Unary; operand: Node }
  | { kind: 'binary'; op: Binary; left: Node; right: Node; spaced: boolean };

const BINARY_OPS: Binary[] = ['*', '/', '%', '+', '-', '<<', '>>', '<', '<=', '>', '>=', '==', '!=', '&', '^', '|', '&&', '||'];
// Written independently of the module: C's table, tightest first.
const LEVELS: Binary[][] = [['*', '/', '%'], ['+', '-'], ['<<', '>>'], ['<', '<=', '>', '>='], ['==', '!='], ['&'], ['^'], ['|'], ['&&'], ['||']];
const tightness = (op: Binary) => LEVELS.length - LEVELS.findIndex((level) => level.includes(op));
const ATOM = 100;

const MASK = (x: bigint) => BigInt.asUintN(32, x);
const bool = (b: boolean) => (b ? 1n : 0n);

/** Reference semantics in BigInt: exact arithmetic, then truncated to 32 bits. */
function reference(n: Node): bigint | 'division by zero' {
  if (n.kind === 'leaf') return BigInt(n.value);
  if (n.kind === 'unary') {
    const v = reference(n.operand);
    if (typeof v === 'string') return v;
    return n.op === '-' ? MASK(-v) : n.op === '~' ? MASK(~v) : n.op === '!' ? bool(v === 0n) : v;
  }
  const a = reference(n.left);
  if (typeof a === 'string') return a;
  if (n.op === '&&' && a === 0n) return 0n;
  if (n.op === '||' && a !== 0n) return 1n;
  const b = reference(n.right);
  if (typeof b === 'string') return b;
  switch (n.op) {
    case '*': return MASK(a * b);
    case '/': return b === 0n ? 'division by zero' : a / b;
    case '%': return b === 0n ? 'division by zero' : a % b;
    case '+': return MASK(a + b);
    case '-': return MASK(a - b);
    case '<<': return b >= 32n ? 0n : MASK(a << b);
    case '>>': return a >> b;
    case '<': return bool(a < b);
    case '<=': return bool(a <= b);
    case '>': return bool(a > b);
    case '>=': return bool(a >= b);
    case '==': return bool(a === b);
    case '!=': return bool(a !== b);
    case '&': return a & b;
    case '^': return a ^ b;
    case '|': return a | b;
    case '&&': return bool(b !== 0n);
    case '||': return bool(b !== 0n);
  }
}

function formatNumber(v: number, format: number): string {
  const hex = v.toString(16);
  switch (format % 8) {
    case 0: return String(v);
    case 1: return `0x${hex}`;
    case 2: return `0${hex}h`;
    case 3: return `0b${v.toString(2)}`;
    case 4: return `${v.toString(2)}b`;
    case 5: return `0o${v.toString(8)}`;
    case 6: return `${v.toString(8)}q`;
    default: return `0x_${hex}`;
  }
}

/** Renders with only the parentheses precedence and left associativity need. */
function render(n: Node, minimal: boolean): string {
  if (n.kind === 'leaf') return formatNumber(n.value, n.format);
  const wrap = (child: Node, needed: boolean) => (needed || !minimal ? `(${render(child, minimal)})` : render(child, minimal));
  if (n.kind === 'unary') return n.op + wrap(n.operand, n.operand.kind === 'binary');
  const t = tightness(n.op);
  const tl = n.left.kind === 'binary' ? tightness(n.left.op) : ATOM;
  const tr = n.right.kind === 'binary' ? tightness(n.right.op) : ATOM;
  const sp = n.spaced ? ' ' : '';
  return wrap(n.left, tl < t) + sp + n.op + sp + wrap(n.right, tr <= t);
}

const nodeArbitrary = fc.letrec<{ node: Node; leaf: Node; unary: Node; binary: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 6, depthSize: 'small' }, tie('leaf'), tie('unary'), tie('binary'), tie('binary')),
  leaf: fc.record({
    kind: fc.constant('leaf' as const),
    value: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffffffff })),
    format: fc.nat(7),
  }),
  unary: fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom<Unary>('-', '~', '!', '+'), operand: tie('node') }),
  binary: fc.record({
    kind: fc.constant('binary' as const),
    op: fc.constantFrom(...BINARY_OPS),
    left: tie('node'),
    right: tie('node'),
    spaced: fc.boolean(),
  }),
})).node;

describe('agrees with a BigInt reference', () => {
  it('on random arithmetic, with minimal and with full parentheses', () => {
    fc.assert(
      fc.property(nodeArbitrary, (tree) => {
        const expected = reference(tree);
        for (const text of [render(tree, true), render(tree, false)]) {
          const r = evaluate(text, makeContext());
          if (typeof expected === 'string') {
            expect(r.ok ? r.value : r.error.message, text).toBe(expected);
          } else {
            expect(r.ok ? r.value : r.error.message, text).toBe(Number(expected));
          }
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('renders the operators it is meant to (sanity check of the generator)', () => {
    const tree: Node = {
      kind: 'binary', op: '-', spaced: true,
      left: { kind: 'leaf', value: 10, format: 0 },
      right: { kind: 'binary', op: '-', spaced: false, left: { kind: 'leaf', value: 4, format: 1 }, right: { kind: 'leaf', value: 3, format: 2 } },
    };
    expect(render(tree, true)).toBe('10 - (0x4-03h)');
    expect(reference(tree)).toBe(9n);
    expect(value(render(tree, true))).toBe(9);
  });
});
