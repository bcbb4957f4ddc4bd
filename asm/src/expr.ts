// Constant-expression evaluation with NASM's semantics: 64-bit two's-complement
// integers, `/` and `%` unsigned, `//` and `%%` signed, and relocatable values
// (addresses of labels) kept apart from plain numbers because NASM never shortens an
// encoding whose value is an address.

import type { Expr, Span } from './syntax.js';

export interface Value {
  n: bigint;
  /** Section whose address this value depends on, or null for a plain number. */
  sect: string | null;
  /** Memo of low32(): the low 32 bits as a signed number. */
  lo?: number;
}

/** A value; every one is made here, so all have one shape (with the `lo` memo slot). */
export function makeValue(n: bigint, sect: string | null): Value {
  return { n, sect, lo: undefined };
}

/** The value of an integer `x` (an address or offset, well inside the safe range), its low32() known at once. */
export function numberValue(x: number, sect: string | null): Value {
  return { n: BigInt(x), sect, lo: x | 0 };
}

/** The value of a number written in the source. */
export function literalValue(n: bigint): Value {
  return makeValue(wrap(n), null);
}

/** The low 32 bits of a value as a signed number (what an instruction field holds). */
export function low32(v: Value): number {
  return (v.lo ??= Number(BigInt.asIntN(32, v.n)));
}

export class EvalError {
  readonly span: Span;
  constructor(
    span: Span,
    readonly message: string,
    /** The expression refers to something not (yet) defined. */
    readonly unknown = false,
  ) {
    this.span = { file: span.file, start: span.start, end: span.end };
  }
}

export interface EvalEnv {
  /** The value of a symbol, or undefined when it is not defined (yet). */
  symbol(name: string, span: Span): Value | undefined;
  /** `$`: the address of the current line; undefined where there is none. */
  here(): Value | undefined;
  /** `$$`: the start of the current section. */
  sectionStart(): Value | undefined;
}

const wrap = (n: bigint) => BigInt.asIntN(64, n);
const u64 = (n: bigint) => BigInt.asUintN(64, n);
const bool = (b: boolean): bigint => (b ? 1n : 0n);

/** Little-endian number from the bytes of a string constant (NASM: 'ab' = 0x6261). */
function bytesValue(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = Math.min(bytes.length, 8) - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return wrap(n);
}

/** Evaluates `e`; throws EvalError for errors and for references to unknown symbols. */
export function evaluate(e: Expr, env: EvalEnv): Value {
  const v = evaluatePartial(e, env);
  if (v === undefined) throw unknownSymbol();
  return v;
}

/** The symbol whose absence made the last evaluatePartial() return undefined. */
let unknown: (Expr & { kind: 'sym' }) | null = null;

/** The error for the last undefined result of evaluatePartial(). */
export function unknownSymbol(): EvalError {
  const e = unknown!;
  return new EvalError(e, `symbol '${e.name}' is not defined`, true);
}

/**
 * evaluate(), but a reference to an unknown symbol gives undefined instead of an
 * exception: before the last pass forward references are common, and throwing for
 * each is slow. Other errors still throw.
 */
export function evaluatePartial(e: Expr, env: EvalEnv): Value | undefined {
  switch (e.kind) {
    case 'num':
      // Numbers are the commonest leaf: build their value once.
      return (e.v ??= literalValue(e.value));
    case 'str':
      return makeValue(bytesValue(e.bytes), null);
    case 'sym': {
      const v = env.symbol(e.name, e);
      if (!v) unknown = e;
      return v;
    }
    case 'reg':
      throw new EvalError(e, `register '${e.reg.name}' cannot be used here`);
    case 'here': {
      const v = env.here();
      if (!v) throw new EvalError(e, "'$' is not allowed here");
      return v;
    }
    case 'sectstart': {
      const v = env.sectionStart();
      if (!v) throw new EvalError(e, "'$$' is not allowed here");
      return v;
    }
    case 'unary': {
      const a = evaluatePartial(e.arg, env);
      if (a === undefined || e.op === '+') return a;
      scalar(a, e.op, e);
      if (e.op === '-') return makeValue(wrap(-a.n), null);
      if (e.op === '~') return makeValue(wrap(~a.n), null);
      return makeValue(bool(a.n === 0n), null);
    }
    case 'cond': {
      const t = evaluatePartial(e.test, env);
      if (t === undefined) return undefined;
      scalar(t, '?', e);
      // Both arms, as nasm evaluates them: an error in the one not taken (1/0, an
      // undefined name) is still an error.
      const then = evaluatePartial(e.then, env);
      const otherwise = evaluatePartial(e.else, env);
      return then === undefined || otherwise === undefined ? undefined : t.n !== 0n ? then : otherwise;
    }
    case 'binary': {
      // Left to right: an unknown left operand ends it before the right is looked at.
      const a = evaluatePartial(e.left, env);
      if (a === undefined) return undefined;
      const b = evaluatePartial(e.right, env);
      if (b === undefined) return undefined;
      return binary(e.op, a, b, e);
    }
  }
}

function scalar(v: Value, op: string, span: Span): void {
  if (v.sect !== null) throw new EvalError(span, `'${op}' operator may only be applied to scalar values, not to an address`);
}

function binary(op: string, a: Value, b: Value, span: Span): Value {
  if (op === '+') {
    if (a.sect !== null && b.sect !== null) throw new EvalError(span, 'cannot add two addresses');
    return makeValue(wrap(a.n + b.n), a.sect ?? b.sect);
  }
  if (op === '-') {
    if (b.sect !== null && a.sect === null) throw new EvalError(span, 'cannot subtract an address from a number');
    // Two addresses: a distance, a plain number.
    return makeValue(wrap(a.n - b.n), b.sect !== null ? null : a.sect);
  }
  scalar(a, op, span);
  scalar(b, op, span);
  const x = a.n;
  const y = b.n;
  let n: bigint;
  switch (op) {
    case '*': n = x * y; break;
    case '/': case '%': case '//': case '%%':
      if (y === 0n) throw new EvalError(span, 'division by zero');
      n = op === '/' ? u64(x) / u64(y) : op === '%' ? u64(x) % u64(y) : op === '//' ? x / y : x % y;
      break;
    // The count taken modulo 64, as nasm's shifts (x86's) take it: 1 << 65 is 2, 1 << -1 the top bit.
    case '<<': case '<<<': n = x << (y & 63n); break;
    case '>>': n = u64(x) >> (y & 63n); break;
    case '>>>': n = x >> (y & 63n); break;
    case '&': n = x & y; break;
    case '|': n = x | y; break;
    case '^': n = x ^ y; break;
    case '=': case '==': n = bool(x === y); break;
    case '!=': case '<>': n = bool(x !== y); break;
    // Orders by the sign of the 64-bit difference, as nasm compares (so 0x8000000000000000 < 108 is 0)
    case '<': n = bool(BigInt.asIntN(64, x - y) < 0n); break;
    case '>': n = bool(BigInt.asIntN(64, x - y) > 0n); break;
    case '<=': n = bool(BigInt.asIntN(64, x - y) <= 0n); break;
    case '>=': n = bool(BigInt.asIntN(64, x - y) >= 0n); break;
    case '<=>': {
      const d = BigInt.asIntN(64, x - y);
      n = d < 0n ? -1n : d > 0n ? 1n : 0n;
      break;
    }
    case '&&': n = bool(x !== 0n && y !== 0n); break;
    case '||': n = bool(x !== 0n || y !== 0n); break;
    case '^^': n = bool((x !== 0n) !== (y !== 0n)); break;
    default: throw new EvalError(span, `unknown operator '${op}'`);
  }
  return makeValue(wrap(n), null);
}

/** An environment with no symbols, for preprocessor conditions and counts. */
export const NO_SYMBOLS: EvalEnv = {
  symbol: () => undefined,
  here: () => undefined,
  sectionStart: () => undefined,
};
