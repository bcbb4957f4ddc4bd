// Statement parser: one logical line of tokens -> LineNode. Never throws: malformed
// input yields a LineNode with errors and as much structure as could be recovered, so
// the language server can keep analysing the rest of the file.

import { FORMS, PREFIXES, registerByName } from '../../isa/src/index.js';
import { isDirectiveToken, significant, type Token } from './lexer.js';
import {
  DATA_DIRECTIVES, DIRECTIVES, RESERVE_DIRECTIVES, SIZE_KEYWORDS, someLeaf,
  type DataItem, type Expr, type Label, type LineNode, type Name, type OperandNode, type Span, type Statement,
  type SyntaxError,
} from './syntax.js';

export class ParseFailure {
  constructor(readonly span: Span, readonly message: string, readonly code = 'syntax') {}
}

/** Parses a NASM numeric literal (without sign); returns null if it is not one. */
export function parseNumber(text: string): bigint | null {
  // Fast path: plain decimal, and 0x hex without underscores.
  if (/^(?:[0-9]+|0[xX][0-9a-fA-F]+)$/.test(text)) return BigInt(text);
  return parseNumberSlow(text);
}

function parseNumberSlow(text: string): bigint | null {
  let t = text.toLowerCase().replace(/_/g, '');
  const digits = (s: string, radix: number): bigint | null => {
    if (!s) return null;
    const valid = radix === 16 ? /^[0-9a-f]+$/ : radix === 10 ? /^[0-9]+$/ : radix === 8 ? /^[0-7]+$/ : /^[01]+$/;
    if (!valid.test(s)) return null;
    const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : radix === 2 ? '0b' : '';
    return BigInt(prefix + s);
  };
  if (t.startsWith('$')) return digits(t.slice(1), 16);
  if (/^[0-9][0-9a-f]*h$/.test(t)) return digits(t.slice(0, -1), 16);
  if (t.startsWith('0x') || t.startsWith('0h')) return digits(t.slice(2), 16);
  if (t.startsWith('0b') || t.startsWith('0y')) return digits(t.slice(2), 2);
  if (t.startsWith('0o') || t.startsWith('0q')) return digits(t.slice(2), 8);
  if (t.startsWith('0d') || t.startsWith('0t')) return digits(t.slice(2), 10);
  const last = t[t.length - 1];
  if (last === 'b' || last === 'y') return digits(t.slice(0, -1), 2);
  if (last === 'q' || last === 'o') return digits(t.slice(0, -1), 8);
  if (last === 'd' || last === 't') return digits(t.slice(0, -1), 10);
  t = t.replace(/^0+(?=\d)/, '');
  return digits(t, 10);
}

const utf8 = (s: string): number[] => {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return out;
};

/** The bytes of a string literal token ('..' and ".." verbatim, `..` with C escapes). */
export function stringBytes(text: string): Uint8Array {
  const quote = text[0];
  const body = text.slice(1, -1);
  if (quote !== '`') return Uint8Array.from(utf8(body));
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out.push(...utf8(c));
      continue;
    }
    const n = body[++i] ?? '';
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, "'": 39, '"': 34, '`': 96, '?': 63 };
    if (n in simple) out.push(simple[n]);
    else if (n === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1))!;
      out.push(m ? parseInt(m[0], 16) : 0);
      i += m ? m[0].length : 0;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
      out.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else if (n === 'u' || n === 'U') {
      const len = n === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      out.push(...utf8(String.fromCodePoint(parseInt(hex, 16) || 0)));
      i += len;
    } else out.push(...utf8(n));
  }
  return Uint8Array.from(out);
}

/** Lower-cased text, without allocating when it already is (the common case). */
function lower(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return text.toLowerCase();
  }
  return text;
}

/** Words that start a statement other than an instruction. */
const STATEMENT_WORD: ReadonlyMap<string, 'times' | 'equ' | 'data' | 'reserve' | 'directive'> = new Map([
  ['times', 'times'], ['equ', 'equ'],
  ...Object.keys(DATA_DIRECTIVES).map((w) => [w, 'data'] as const),
  ...Object.keys(RESERVE_DIRECTIVES).map((w) => [w, 'reserve'] as const),
  ...[...DIRECTIVES].map((w) => [w, 'directive'] as const),
]);

/** Binary operators by precedence level, loosest first. */
const BINARY_LEVEL: ReadonlyMap<string, number> = new Map(
  [
    ['||'], ['^^'], ['&&'], ['=', '==', '!=', '<>', '<', '>', '<=', '>=', '<=>'],
    ['|'], ['^'], ['&'], ['<<', '>>', '<<<', '>>>'], ['+', '-'], ['*', '/', '//', '%', '%%'],
  ].flatMap((ops, level) => ops.map((op) => [op, level] as const)),
);

/** Recursive-descent parser over the significant tokens of one line. */
class LineParser {
  private pos = 0;
  private toks: Token[] = [];

  /** Parsing is per line and never re-entrant: one parser serves every line. */
  reset(toks: Token[]): this {
    this.toks = toks;
    this.pos = 0;
    return this;
  }

  peek(k = 0): Token | undefined {
    return this.toks[this.pos + k];
  }
  next(): Token | undefined {
    return this.toks[this.pos++];
  }
  atEnd(): boolean {
    return this.pos >= this.toks.length;
  }
  isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === 'op' && t.text === text;
  }
  here(): Span {
    const t = this.peek() ?? this.toks[this.toks.length - 1];
    if (!t) return { file: 0, start: 0, end: 0 };
    return this.atEnd() ? { file: t.file, start: t.end, end: t.end } : t;
  }
  fail(message: string, span: Span = this.here()): never {
    throw new ParseFailure(span, message);
  }
  expectOp(text: string): Token {
    if (!this.isOp(text)) this.fail(`expected '${text}'`);
    return this.next()!;
  }
  join(a: Span, b: Span): Span {
    return { file: a.file, start: a.start, end: Math.max(a.end, b.end) };
  }
  restSpan(from: Span): Span {
    const last = this.toks[this.pos - 1];
    return last ? this.join(from, last) : from;
  }

  // ---- expressions, lowest precedence first ----
  expr(): Expr {
    const test = this.binary(0);
    if (this.isOp('?')) {
      this.next();
      const then = this.expr();
      this.expectOp(':');
      const otherwise = this.expr();
      return { kind: 'cond', test, then, else: otherwise, span: this.join(test.span, otherwise.span) };
    }
    return test;
  }

  /** Precedence climbing over NASM's binary operators (all left-associative). */
  binary(minLevel: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const level = t !== undefined && t.kind === 'op' ? BINARY_LEVEL.get(t.text) : undefined;
      if (level === undefined || level < minLevel) return left;
      this.next();
      const right = this.binary(level + 1);
      left = { kind: 'binary', op: t!.text, left, right, span: this.join(left.span, right.span) };
    }
  }

  unary(): Expr {
    const t = this.peek();
    if (t && t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '!')) {
      this.next();
      const arg = this.unary();
      return { kind: 'unary', op: t.text, arg, span: this.join(t, arg.span) };
    }
    return this.primary();
  }

  primary(): Expr {
    const t = this.next();
    if (!t) this.fail('expected an expression');
    const span = t;
    switch (t.kind) {
      case 'number': {
        const value = parseNumber(t.text);
        if (value === null) {
          const float = /^[0-9][0-9_]*(\.[0-9_]*)?(e[+-]?[0-9]+)?$/i.test(t.text) && /[.e]/i.test(t.text);
          this.fail(float ? `floating-point constant '${t.text}' is not supported` : `invalid number '${t.text}'`, span);
        }
        return { kind: 'num', value, span };
      }
      case 'string':
        return { kind: 'str', bytes: stringBytes(t.text), span };
      case 'here':
        return { kind: 'here', span };
      case 'sectstart':
        return { kind: 'sectstart', span };
      case 'ident': {
        const reg = registerByName(t.text);
        if (reg) return { kind: 'reg', reg, span };
        const name = t.text.startsWith('$') ? t.text.slice(1) : t.text;
        return { kind: 'sym', name, span };
      }
      case 'op':
        if (t.text === '(') {
          const inner = this.expr();
          const close = this.expectOp(')');
          return { ...inner, span: this.join(span, close) } as Expr;
        }
        break;
      case 'bad':
        this.fail(t.text.length > 1 ? 'unterminated string' : `unexpected character '${t.text}'`, span);
    }
    this.fail(`unexpected '${t.text}' in expression`, span);
  }

  // ---- operands ----
  operand(): OperandNode {
    const start: Span = this.peek() ?? this.here();
    let size = 0;
    let strict = false;
    let distance: '' | 'short' | 'near' | 'far' = '';
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'ident') break;
      const w = lower(t.text);
      if (w in SIZE_KEYWORDS) size = SIZE_KEYWORDS[w];
      else if (w === 'strict') strict = true;
      else if (w === 'short' || w === 'near' || w === 'far') distance = w;
      else break;
      this.next();
    }
    if (this.isOp('[')) {
      const mem = this.memory(size, distance === 'far');
      // With a size keyword in front, the operand starts at the keyword.
      if (mem.span.start !== start.start) mem.span = this.join(start, mem.span);
      return mem;
    }
    const first = this.expr();
    if (this.isOp(':')) {
      this.next();
      const offset = this.expr();
      return { kind: 'farptr', seg: first, offset, span: this.join(start, offset.span) };
    }
    if (first.kind === 'reg' && size === 0 && !strict && distance === '') {
      return first; // a register expression is already a register operand
    }
    if (someLeaf(first, (leaf) => leaf.kind === 'reg')) this.fail('a register cannot be used in an immediate expression', first.span);
    const span = first.span.start === start.start ? first.span : this.join(start, first.span);
    return { kind: 'imm', expr: first, size, strict, distance, span };
  }

  memory(size: number, far: boolean): Extract<OperandNode, { kind: 'mem' }> {
    const open = this.expectOp('[');
    let dispSize = 0;
    let nosplit = false;
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'ident') break;
      const w = t.text.toLowerCase();
      if (w === 'byte' || w === 'word' || w === 'dword') dispSize = SIZE_KEYWORDS[w];
      else if (w === 'nosplit') nosplit = true;
      else if (w === 'rel' || w === 'abs') { /* 64-bit only: accepted and ignored */ } else break;
      this.next();
    }
    let seg = null;
    const t0 = this.peek();
    if (t0 && t0.kind === 'ident' && this.isOp(':', 1)) {
      const reg = registerByName(t0.text);
      if (!reg || reg.cls !== 'sreg') this.fail(`'${t0.text}' is not a segment register`, t0);
      seg = reg;
      this.next();
      this.next();
    }
    const addr = this.isOp(']') ? null : this.expr();
    const close = this.expectOp(']');
    return { kind: 'mem', size, far, seg, addr, dispSize, nosplit, span: this.join(open, close) };
  }

  // ---- statements ----
  statement(): Statement | null {
    const t = this.peek();
    if (!t) return null;
    if (t.kind === 'op' && t.text === '[') return this.bracketDirective();
    if (t.kind !== 'ident') this.fail(`expected an instruction or directive, found '${t.text}'`);
    const word = lower(t.text);
    const what = STATEMENT_WORD.get(word);
    if (what === undefined) return this.instruction();
    const name: Name = { text: word, span: t };
    this.next();
    switch (what) {
      case 'times': {
        const count = this.expr();
        const body = this.statement();
        return { kind: 'times', count, body, span: this.restSpan(name.span) };
      }
      case 'equ':
        return { kind: 'equ', value: this.expr(), span: this.restSpan(name.span) };
      case 'data':
        return { kind: 'data', directive: name, unit: DATA_DIRECTIVES[word], items: this.dataItems(), span: this.restSpan(name.span) };
      case 'reserve': {
        const count = this.expr();
        return { kind: 'reserve', directive: name, unit: RESERVE_DIRECTIVES[word], count, span: this.restSpan(name.span) };
      }
      case 'directive':
        return this.directive(name);
    }
  }

  bracketDirective(): Statement {
    const open = this.next()!;
    const t = this.next();
    if (!t || t.kind !== 'ident') this.fail('expected a directive after [');
    const name: Name = { text: t.text.toLowerCase(), span: t };
    const args: Token[] = [];
    while (!this.atEnd() && !this.isOp(']')) args.push(this.next()!);
    this.expectOp(']');
    return { kind: 'directive', name, args, span: this.restSpan(open) };
  }

  directive(name: Name): Statement {
    if (name.text === 'at') {
      const field = this.expr();
      let body: Statement | null = null;
      if (this.isOp(',')) {
        this.next();
        body = this.statement();
      }
      return { kind: 'directive', name, args: [], exprs: [field], body, span: this.restSpan(name.span) };
    }
    if (name.text === 'align' || name.text === 'alignb') {
      const exprs = [this.expr()];
      let body: Statement | null = null;
      if (this.isOp(',')) {
        this.next();
        body = this.statement();
      }
      return { kind: 'directive', name, args: [], exprs, body, span: this.restSpan(name.span) };
    }
    if (name.text === 'org' || name.text === 'absolute') {
      return { kind: 'directive', name, args: [], exprs: [this.expr()], span: this.restSpan(name.span) };
    }
    const args: Token[] = [];
    while (!this.atEnd()) args.push(this.next()!);
    return { kind: 'directive', name, args, span: this.restSpan(name.span) };
  }

  dataItems(): DataItem[] {
    const items: DataItem[] = [];
    if (this.atEnd()) this.fail('expected data after the directive');
    for (;;) {
      const t = this.peek()!;
      const after = this.peek(1);
      const alone = !after || (after.kind === 'op' && after.text === ',');
      if (t.kind === 'string' && alone) {
        this.next();
        items.push({ kind: 'string', bytes: stringBytes(t.text), span: t });
      } else if (t.kind === 'op' && t.text === '?' && alone) {
        this.next();
        items.push({ kind: 'uninit', span: t });
      } else {
        const expr = this.expr();
        items.push({ kind: 'expr', expr, span: expr.span });
      }
      if (this.atEnd()) return items;
      this.expectOp(',');
      if (this.atEnd()) this.fail("expected data after ','");
    }
  }

  instruction(): Statement {
    const prefixes: Name[] = [];
    let t = this.next()!;
    while (lower(t.text) in PREFIXES && this.peek() && this.peek()!.kind === 'ident' && !this.isOp(':', 0)) {
      prefixes.push({ text: lower(t.text), span: t });
      t = this.next()!;
    }
    if (t.kind !== 'ident') this.fail(`expected an instruction, found '${t.text}'`, t);
    const mnemonic: Name = { text: lower(t.text), span: t };
    const operands: OperandNode[] = [];
    if (!this.atEnd()) {
      for (;;) {
        operands.push(this.operand());
        if (this.atEnd()) break;
        this.expectOp(',');
      }
    }
    const first = prefixes[0]?.span ?? mnemonic.span;
    return { kind: 'instruction', prefixes, mnemonic, operands, span: this.restSpan(first) };
  }
}

const PARSER = new LineParser();

/** Shared by every line without errors (most of them), which never adds to it. */
const NO_ERRORS: SyntaxError[] = [];


/** Words that start a statement, so an identifier before them is a label even without a colon. */
export function isStatementKeyword(word: string): boolean {
  return KEYWORDS.has(lower(word));
}

const KEYWORDS: ReadonlySet<string> = new Set([...STATEMENT_WORD.keys(), ...Object.keys(PREFIXES), ...FORMS.map((f) => f.mnemonic)]);

/**
 * Parses one logical line. `tokens` is every token of the line (trivia included, no
 * trailing newline); the result keeps them for losslessness.
 */
export function parseLine(tokens: Token[], sig: Token[] = significant(tokens)): LineNode {
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  const span: Span = first
    ? { file: first.file, start: first.start, end: last.end }
    : { file: 0, start: 0, end: 0 };
  const node: LineNode = { tokens, span, label: null, statement: null, preproc: null, errors: NO_ERRORS };
  if (sig.length === 0) return node;
  const head = sig[0];
  if (isDirectiveToken(head)) {
    node.preproc = {
      name: { text: head.text.toLowerCase(), span: head },
      args: sig.slice(1),
    };
    return node;
  }
  const p = PARSER.reset(sig);
  try {
    node.label = parseLabel(p, sig);
    node.statement = p.statement();
    if (!p.atEnd()) p.fail(`unexpected '${p.peek()!.text}'`);
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    node.errors = [{ span: e.span, message: e.message, code: e.code } satisfies SyntaxError];
  }
  return node;
}

function parseLabel(p: LineParser, sig: Token[]): Label | null {
  const t = sig[0];
  if (t.kind !== 'ident') return null;
  const second = sig[1];
  const colon = second !== undefined && second.kind === 'op' && second.text === ':';
  const word = t.text.toLowerCase();
  const isReg = registerByName(word) !== undefined;
  if (!colon) {
    if (isStatementKeyword(word) || isReg) return null;
    // `name equ 1`, `name db 0`, `name:`-less label alone on its line
    if (second !== undefined && !(second.kind === 'ident' && isStatementKeyword(second.text))) return null;
  }
  if (isReg && !colon) return null;
  p.next();
  if (colon) p.next();
  const name = t.text.startsWith('$') ? t.text.slice(1) : t.text;
  return { name, colon, span: t };
}

