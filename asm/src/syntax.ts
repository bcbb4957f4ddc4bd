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
  | (Span & { kind: 'uninit' })
  /** A floating-point constant (`dd 1.5`, `dq -2.5e-3`, `dd __?QNaN?__`): as written ('inf', 'qnan' or 'snan' for nasm's special names), and its sign. */
  | (Span & { kind: 'float'; text: string; negative: boolean });

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
  'sectalign',
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

/**
 * A copy of a parsed line `delta` characters further on in its file (the lines after an
 * edit): every span moved, nothing else changed. Memos stay, but an address's base/index
 * split, which holds a node of the old line, is derived again. The line's nodes all come
 * from its file. Each node is built as the parser builds it, fields in the same order,
 * so that code reading the trees sees one shape per kind of node.
 */
export function movedLine(line: LineNode, delta: number): LineNode {
  // A line with no tokens has no position (its span is 0..0 wherever it is).
  if (line.start === line.end) return line;
  const { label, statement, preproc, errors } = line;
  return {
    file: line.file, start: line.start + delta, end: line.end + delta,
    label: label && { name: label.name, colon: label.colon, file: label.file, start: label.start + delta, end: label.end + delta },
    statement: statement && movedStatement(statement, delta),
    preproc: preproc && { name: movedName(preproc.name, delta), args: preproc.args.map((t) => movedToken(t, delta)) },
    errors: errors.length ? errors.map((e) => ({ span: { file: e.span.file, start: e.span.start + delta, end: e.span.end + delta }, message: e.message, code: e.code })) : errors,
  };
}

/**
 * movedLine() done to the line itself: every span of its tree moved `delta` characters, no
 * node allocated (an edit near the top of a 10k-line file moves thousands of lines, and
 * their copies were most of what the collector had to do). Only for trees no one else
 * reads at their old places (see AssembleOptions.moveTreesInPlace). A tree holds each of
 * its nodes once, so each moves once; an address's derived split is dropped (as the copy
 * drops it), and errors, rare, are copied.
 */
export function moveLine(line: LineNode, delta: number): LineNode {
  if (line.start === line.end) return line;
  line.start += delta;
  line.end += delta;
  if (line.label) move(line.label, delta);
  if (line.statement) moveStatement(line.statement, delta);
  if (line.preproc) {
    move(line.preproc.name, delta);
    for (const t of line.preproc.args) move(t, delta);
  }
  if (line.errors.length) line.errors = line.errors.map((e) => ({ span: { file: e.span.file, start: e.span.start + delta, end: e.span.end + delta }, message: e.message, code: e.code }));
  return line;
}

function move(n: Span, delta: number): void {
  n.start += delta;
  n.end += delta;
}

function moveStatement(st: Statement, delta: number): void {
  move(st, delta);
  switch (st.kind) {
    case 'instruction':
      for (const p of st.prefixes) move(p, delta);
      move(st.mnemonic, delta);
      for (const o of st.operands) moveOperand(o, delta);
      return;
    case 'data':
      move(st.directive, delta);
      for (const item of st.items) {
        move(item, delta);
        if (item.kind === 'expr') moveExpr(item.expr, delta);
      }
      return;
    case 'reserve':
      move(st.directive, delta);
      moveExpr(st.count, delta);
      return;
    case 'times':
      moveExpr(st.count, delta);
      if (st.body) moveStatement(st.body, delta);
      return;
    case 'equ':
      moveExpr(st.value, delta);
      return;
    case 'directive':
      move(st.name, delta);
      for (const t of st.args) move(t, delta);
      if (st.exprs) for (const e of st.exprs) moveExpr(e, delta);
      if (st.body) moveStatement(st.body, delta);
  }
}

function moveOperand(op: OperandNode, delta: number): void {
  move(op, delta);
  switch (op.kind) {
    case 'mem':
      if (op.addr) moveExpr(op.addr, delta);
      op.shape = undefined;
      return;
    case 'imm':
      moveExpr(op.expr, delta);
      return;
    case 'farptr':
      moveExpr(op.seg, delta);
      moveExpr(op.offset, delta);
  }
}

function moveExpr(e: Expr, delta: number): void {
  move(e, delta);
  switch (e.kind) {
    case 'unary':
      moveExpr(e.arg, delta);
      return;
    case 'binary':
      moveExpr(e.left, delta);
      moveExpr(e.right, delta);
      return;
    case 'cond':
      moveExpr(e.test, delta);
      moveExpr(e.then, delta);
      moveExpr(e.else, delta);
  }
}

function movedName(n: Name, delta: number): Name {
  return { text: n.text, file: n.file, start: n.start + delta, end: n.end + delta };
}

function movedToken(t: Token, delta: number): Token {
  return { kind: t.kind, text: t.text, start: t.start + delta, end: t.end + delta, file: t.file, atom: t.atom };
}

function movedStatement(st: Statement, delta: number): Statement {
  const file = st.file;
  const start = st.start + delta;
  const end = st.end + delta;
  switch (st.kind) {
    case 'instruction': {
      const prefixes = st.prefixes.length ? st.prefixes.map((p) => movedName(p, delta)) : st.prefixes;
      const operands = st.operands.length ? st.operands.map((o) => movedOperand(o, delta)) : st.operands;
      // The memo holds what the encoding derived from the statement alone (no node, no position).
      return { kind: 'instruction', prefixes, mnemonic: movedName(st.mnemonic, delta), operands, file, start, end, memo: st.memo };
    }
    case 'data':
      return { kind: 'data', directive: movedName(st.directive, delta), unit: st.unit, items: st.items.map((item) => movedItem(item, delta)), file, start, end };
    case 'reserve':
      return { kind: 'reserve', directive: movedName(st.directive, delta), unit: st.unit, count: movedExpr(st.count, delta), file, start, end };
    case 'times':
      return { kind: 'times', count: movedExpr(st.count, delta), body: st.body && movedStatement(st.body, delta), file, start, end };
    case 'equ':
      return { kind: 'equ', value: movedExpr(st.value, delta), file, start, end };
    case 'directive': {
      const name = movedName(st.name, delta);
      const args = st.args.length ? st.args.map((t) => movedToken(t, delta)) : st.args;
      const exprs = st.exprs && st.exprs.map((e) => movedExpr(e, delta));
      // the parser's three shapes: with a body, with expressions, with neither
      if ('body' in st) return { kind: 'directive', name, args, exprs, body: st.body && movedStatement(st.body, delta), file, start, end };
      if ('exprs' in st) return { kind: 'directive', name, args, exprs, file, start, end };
      return { kind: 'directive', name, args, file, start, end };
    }
  }
}

function movedItem(item: DataItem, delta: number): DataItem {
  const start = item.start + delta;
  const end = item.end + delta;
  switch (item.kind) {
    case 'expr': return { kind: 'expr', expr: movedExpr(item.expr, delta), file: item.file, start, end };
    case 'string': return { kind: 'string', bytes: item.bytes, file: item.file, start, end };
    case 'uninit': return { kind: 'uninit', file: item.file, start, end };
    case 'float': return { kind: 'float', text: item.text, negative: item.negative, file: item.file, start, end };
  }
}

function movedOperand(op: OperandNode, delta: number): OperandNode {
  const file = op.file;
  const start = op.start + delta;
  const end = op.end + delta;
  switch (op.kind) {
    case 'reg': return { kind: 'reg', reg: op.reg, file, start, end };
    case 'mem':
      return { kind: 'mem', size: op.size, far: op.far, seg: op.seg, addr: op.addr && movedExpr(op.addr, delta), dispSize: op.dispSize, nosplit: op.nosplit, file, start, end, shape: undefined };
    case 'imm': return { kind: 'imm', expr: movedExpr(op.expr, delta), size: op.size, strict: op.strict, distance: op.distance, file, start, end };
    case 'farptr': return { kind: 'farptr', seg: movedExpr(op.seg, delta), offset: movedExpr(op.offset, delta), file, start, end };
  }
}

function movedExpr(e: Expr, delta: number): Expr {
  const file = e.file;
  const start = e.start + delta;
  const end = e.end + delta;
  switch (e.kind) {
    case 'num': return { kind: 'num', value: e.value, file, start, end, v: e.v };
    case 'str': return { kind: 'str', bytes: e.bytes, file, start, end };
    case 'sym': return { kind: 'sym', name: e.name, file, start, end };
    case 'reg': return { kind: 'reg', reg: e.reg, file, start, end };
    case 'here': return { kind: 'here', file, start, end };
    case 'sectstart': return { kind: 'sectstart', file, start, end };
    case 'unary': return { kind: 'unary', op: e.op, arg: movedExpr(e.arg, delta), file, start, end };
    case 'binary': return { kind: 'binary', op: e.op, left: movedExpr(e.left, delta), right: movedExpr(e.right, delta), file, start, end };
    case 'cond': return { kind: 'cond', test: movedExpr(e.test, delta), then: movedExpr(e.then, delta), else: movedExpr(e.else, delta), file, start, end };
  }
}
