// A parsed instruction written back as NASM text from its nodes: what a line made by a
// macro (or with %define'd words) says once expanded (`invlpg [eax]`, where the macro's
// body has `invlpg [%1]`), for messages about it. Numbers and strings keep their spelling.

import { binaryLevel } from './parser.js';
import { SIZE_NAME, type Expr, type OperandNode, type Span, type Statement } from './syntax.js';

/** The source text of a one-token node (a number or string as written), or undefined. */
export type LeafSource = (span: Span) => string | undefined;

/** An instruction statement as text (other statements: null). */
export function instructionText(st: Statement, source: LeafSource): string | null {
  if (st.kind !== 'instruction') return null;
  const head = [...st.prefixes.map((p) => p.text), st.mnemonic.text].join(' ');
  return st.operands.length ? `${head} ${st.operands.map((o) => operandText(o, source)).join(', ')}` : head;
}

function operandText(o: OperandNode, source: LeafSource): string {
  switch (o.kind) {
    case 'reg': return o.reg.name;
    case 'mem': {
      const size = o.size ? `${SIZE_NAME[o.size]} ` : '';
      const seg = o.seg ? `${o.seg.name}:` : '';
      return `${size}[${seg}${o.addr ? exprText(o.addr, source) : ''}]`;
    }
    case 'imm': {
      const words = [o.strict ? 'strict' : '', o.size ? SIZE_NAME[o.size] : '', o.distance].filter(Boolean);
      return [...words, exprText(o.expr, source)].join(' ');
    }
    case 'farptr': return `${exprText(o.seg, source)}:${exprText(o.offset, source)}`;
  }
}

/** Tighter than any binary operator: unary operators and leaves. */
const UNARY_LEVEL = 100;

function level(e: Expr): number {
  return e.kind === 'binary' ? binaryLevel(e.op) : e.kind === 'cond' ? -1 : UNARY_LEVEL;
}

function exprText(e: Expr, source: LeafSource): string {
  const inner = (x: Expr, min: number) => (level(x) < min ? `(${exprText(x, source)})` : exprText(x, source));
  switch (e.kind) {
    case 'num': return source(e) ?? String(e.value);
    case 'str': return source(e) ?? `\`${[...e.bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}\``;
    case 'sym': return e.name;
    case 'reg': return e.reg.name;
    case 'here': return '$';
    case 'sectstart': return '$$';
    case 'unary': return `${e.op}${inner(e.arg, UNARY_LEVEL)}`;
    // left-associative: a right operand of the same level needs parentheses
    case 'binary': return `${inner(e.left, level(e))} ${e.op} ${inner(e.right, level(e) + 1)}`;
    case 'cond': return `${inner(e.test, 0)} ? ${inner(e.then, 0)} : ${exprText(e.else, source)}`;
  }
}
