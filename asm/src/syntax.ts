// The syntax tree of one NASM-syntax line. Every node carries a span (file + offsets)
// so diagnostics, hovers and the debugger's line table point at real source text.

import type { Register } from '../../isa/src/index.js';
import type { AddressShape } from './address.js';
import type { ShapePlan } from './encoder.js';
import type { Value } from './expr.js';
import type { Token } from './lexer.js';

export interface Span {
  file: number;
  start: number;
  end: number;
}

// Every node is its own span (`file`, `start`, `end` fields): no separate span object
// per node. Code that keeps a location beyond the tree copies it with `spanOf`.

export type Expr =
  /** `v` caches the evaluated value (numbers never change). */
  | (Span & { kind: 'num'; value: bigint; v?: Value })
  /** A quoted string used as a number: its bytes, little-endian. */
  | (Span & { kind: 'str'; bytes: Uint8Array })
  | (Span & { kind: 'sym'; name: string })
  /** A register inside a memory reference. */
  | (Span & { kind: 'reg'; reg: Register })
  | (Span & { kind: 'here' })
  | (Span & { kind: 'sectstart' })
  | (Span & { kind: 'unary'; op: string; arg: Expr })
  | (Span & { kind: 'binary'; op: string; left: Expr; right: Expr })
  | (Span & { kind: 'cond'; test: Expr; then: Expr; else: Expr });

export type MemoryOperand = Span & {
  kind: 'mem';
  /** Declared width in bits (byte=8 ... tword=80), 0 when not given. */
  size: number;
  far: boolean;
  seg: Register | null;
  /** The address expression; registers appear as 'reg' leaves. */
  addr: Expr | null;
  /** Displacement width forced inside the brackets (`[byte ebx+0]`), 0 when not given. */
  dispSize: number;
  nosplit: boolean;
  /** The address's base/index/displacement, derived once. */
  shape?: AddressShape;
};

export type OperandNode =
  | (Span & { kind: 'reg'; reg: Register })
  | MemoryOperand
  | (Span & {
      kind: 'imm';
      expr: Expr;
      /** Declared width in bits, 0 when not given. */
      size: number;
      strict: boolean;
      /** Jump distance keyword. */
      distance: '' | 'short' | 'near' | 'far';
    })
  | (Span & { kind: 'farptr'; seg: Expr; offset: Expr });

export interface Name extends Span {
  text: string;
}

export type DataItem =
  | (Span & { kind: 'expr'; expr: Expr })
  | (Span & { kind: 'string'; bytes: Uint8Array })
  | (Span & { kind: 'uninit' });

/**
 * What the assembler derives once from an instruction statement and keeps on it (the
 * statement itself never changes; see ARCHITECTURE.md).
 */
export interface InstructionMemo {
  /** The forms whose operand kinds accept these operands' shapes (registers, sizes, keywords). */
  plan?: ShapePlan;
  /** Encoded length when it cannot depend on labels or the address; -1 when it can. */
  fixed?: number;
  /** Set when `fixed` relies on `equ` constants: the assembly whose constants they were. */
  assembly?: number;
  /** A fixed instruction's bytes, kept from its first encoding: `fixed` bytes of `pool` from `at`. */
  pool?: Uint8Array;
  at?: number;
  warnings?: readonly string[];
}

export type Statement =
  | (Span & { kind: 'instruction'; prefixes: Name[]; mnemonic: Name; operands: OperandNode[]; memo?: InstructionMemo })
  | (Span & { kind: 'data'; directive: Name; unit: number; items: DataItem[] })
  | (Span & { kind: 'reserve'; directive: Name; unit: number; count: Expr })
  | (Span & { kind: 'times'; count: Expr; body: Statement | null })
  | (Span & { kind: 'equ'; value: Expr })
  /** Assembler directives: bits, section, org, align, global, struc, at, incbin, ... */
  | (Span & { kind: 'directive'; name: Name; args: Token[]; body?: Statement | null; exprs?: Expr[] });

export interface Label extends Span {
  name: string;
  colon: boolean;
}

/** One logical source line after parsing (its own span: first to last token). */
export interface LineNode extends Span {
  label: Label | null;
  statement: Statement | null;
  /** Preprocessor directive (`%define`, `%macro`, ...) when the line is one. */
  preproc: { name: Name; args: Token[] } | null;
  /** Empty for most lines (a shared array: never push to it, replace it). */
  errors: readonly SyntaxError[];
}

/**
 * Where a span starting at `from` ends when it should reach to `to`. Tokens of one line
 * can come from different files (a macro argument, a define's body); a span stays in
 * its first file, so only a part in that file extends it.
 */
export function reach(from: Span, to: Span): number {
  return to.file === from.file ? Math.max(from.end, to.end) : from.end;
}

/** A plain copy of a node's location, for diagnostics that outlive the tree. */
export function spanOf(s: Span): Span {
  return { file: s.file, start: s.start, end: s.end };
}

export interface SyntaxError {
  span: Span;
  message: string;
  code: string;
}

/** Size keywords and their widths in bits. */
export const SIZE_KEYWORDS: Readonly<Record<string, number>> = {
  byte: 8, word: 16, dword: 32, fword: 48, pword: 48, qword: 64, tword: 80, oword: 128,
};

/** The size keyword for each width (the first of SIZE_KEYWORDS with it). */
export const SIZE_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(SIZE_KEYWORDS).reverse().map(([word, bits]) => [bits, word]),
);

/** Data definition directives and their unit sizes in bytes. */
export const DATA_DIRECTIVES: Readonly<Record<string, number>> = { db: 1, dw: 2, dd: 4, dq: 8, dt: 10 };
export const RESERVE_DIRECTIVES: Readonly<Record<string, number>> = { resb: 1, resw: 2, resd: 4, resq: 8, rest: 10 };

/** Assembler directives (not instructions, not preprocessor). */
export const DIRECTIVES: ReadonlySet<string> = new Set([
  'bits', 'use16', 'use32', 'section', 'segment', 'org', 'align', 'alignb', 'global', 'extern', 'common',
  'struc', 'endstruc', 'istruc', 'at', 'iend', 'incbin', 'absolute', 'default', 'cpu', 'static', 'warning', 'map',
]);

/** Whether some leaf of `e` (a number, string, symbol, register, `$` or `$$`) passes `test`. */
export function someLeaf(e: Expr | null, test: (leaf: Expr) => boolean): boolean {
  if (!e) return false;
  switch (e.kind) {
    case 'unary': return someLeaf(e.arg, test);
    case 'binary': return someLeaf(e.left, test) || someLeaf(e.right, test);
    case 'cond': return someLeaf(e.test, test) || someLeaf(e.then, test) || someLeaf(e.else, test);
    default: return test(e);
  }
}
