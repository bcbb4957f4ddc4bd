// The syntax tree of one NASM-syntax line. Every node carries a span (file + offsets)
// so diagnostics, hovers and the debugger's line table point at real source text.

import type { InstructionForm, Register } from '../../isa/src/index.js';
import type { AddressShape } from './address.js';
import type { Token } from './lexer.js';

export interface Span {
  file: number;
  start: number;
  end: number;
}

export type Expr =
  /** `v` caches the evaluated value (numbers never change). */
  | { kind: 'num'; value: bigint; span: Span; v?: { n: bigint; sect: null; lo?: number } }
  /** A quoted string used as a number: its bytes, little-endian. */
  | { kind: 'str'; bytes: Uint8Array; span: Span }
  | { kind: 'sym'; name: string; span: Span }
  /** A register inside a memory reference. */
  | { kind: 'reg'; reg: Register; span: Span }
  | { kind: 'here'; span: Span }
  | { kind: 'sectstart'; span: Span }
  | { kind: 'unary'; op: string; arg: Expr; span: Span }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; span: Span }
  | { kind: 'cond'; test: Expr; then: Expr; else: Expr; span: Span };

export type OperandNode =
  | { kind: 'reg'; reg: Register; span: Span }
  | {
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
      span: Span;
      /** The address's base/index/displacement, derived once. */
      shape?: AddressShape;
    }
  | {
      kind: 'imm';
      expr: Expr;
      /** Declared width in bits, 0 when not given. */
      size: number;
      strict: boolean;
      /** Jump distance keyword. */
      distance: '' | 'short' | 'near' | 'far';
      span: Span;
    }
  | { kind: 'farptr'; seg: Expr; offset: Expr; span: Span };

export interface Name {
  text: string;
  span: Span;
}

export type DataItem =
  | { kind: 'expr'; expr: Expr; span: Span }
  | { kind: 'string'; bytes: Uint8Array; span: Span }
  | { kind: 'uninit'; span: Span };

/**
 * What the assembler derives once from an instruction statement and keeps on it (the
 * statement itself never changes; see ARCHITECTURE.md).
 */
export interface InstructionMemo {
  /** Forms whose operand kinds accept these operands' shapes (registers, sizes, keywords). */
  forms?: readonly InstructionForm[];
  /** Encoded length when it cannot depend on labels or the address; -1 when it can. */
  fixed?: number;
  /** Bytes and warnings of a fixed instruction, once encoded in a final pass. */
  bytes?: number[];
  warnings?: string[];
  /** 1-based line and column of the mnemonic. */
  line?: number;
  column?: number;
}

export type Statement =
  | { kind: 'instruction'; prefixes: Name[]; mnemonic: Name; operands: OperandNode[]; span: Span; memo?: InstructionMemo }
  | { kind: 'data'; directive: Name; unit: number; items: DataItem[]; span: Span }
  | { kind: 'reserve'; directive: Name; unit: number; count: Expr; span: Span }
  | { kind: 'times'; count: Expr; body: Statement | null; span: Span }
  | { kind: 'equ'; value: Expr; span: Span }
  /** Assembler directives: bits, section, org, align, global, struc, at, incbin, ... */
  | { kind: 'directive'; name: Name; args: Token[]; span: Span; body?: Statement | null; exprs?: Expr[] };

export interface Label {
  name: string;
  span: Span;
  colon: boolean;
}

/** One logical source line after parsing (a preprocessor line is kept as raw tokens). */
export interface LineNode {
  /** All tokens of the line, trivia included (lossless). */
  tokens: Token[];
  span: Span;
  label: Label | null;
  statement: Statement | null;
  /** Preprocessor directive (`%define`, `%macro`, ...) when the line is one. */
  preproc: { name: Name; args: Token[] } | null;
  /** Empty for most lines (a shared array: never push to it, replace it). */
  errors: readonly SyntaxError[];
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

/** The expressions an instruction operand holds. */
export function operandExprs(op: OperandNode): (Expr | null)[] {
  switch (op.kind) {
    case 'reg': return [];
    case 'mem': return [op.addr];
    case 'imm': return [op.expr];
    case 'farptr': return [op.seg, op.offset];
  }
}
