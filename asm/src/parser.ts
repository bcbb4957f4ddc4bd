// Statement parser: one logical line of tokens -> LineNode. Never throws: malformed
// input yields a LineNode with errors and as much structure as could be recovered, so
// the language server can keep analysing the rest of the file.

import { FORMS, PREFIXES, registerByName, type Register } from '../../isa/src/index.js';
import { ATOMS, isDirectiveText, K_BAD, K_COMMENT, K_HERE, K_IDENT, K_NUMBER, K_OP, K_PP, K_SECTSTART, K_STRING, KIND_CODE, TokenStream, type Token } from './lexer.js';
import { literalValue, type Value } from './expr.js';
import { encodeFloat, FLOAT_FORMATS, FLOAT_SPECIALS, isFloatText, type FloatFormat } from './float.js';
import { encodeUtf, pushUtf8, utf8CodePoints, utf8Encode } from './utf.js';
import {
  DATA_DIRECTIVES, DIRECTIVES, RESERVE_DIRECTIVES, reach, SIZE_KEYWORDS, SIZE_NAME, someLeaf, spanOf,
  type DataItem, type Expr, type Label, type LineNode, type MemoryOperand, type Name, type OperandNode, type Span,
  type Statement, type SyntaxError,
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


/** The bytes of a string literal token ('..' and ".." verbatim, `..` with C escapes). */
export function stringBytes(text: string): Uint8Array {
  const quote = text[0];
  const body = text.slice(1, -1);
  if (quote !== '`') return utf8Encode(body);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      pushUtf8(out, body.codePointAt(i)!);
      if (body.codePointAt(i)! > 0xffff) i++;
      continue;
    }
    const n = body[++i] ?? '';
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, "'": 39, '"': 34, '`': 96, '?': 63 };
    if (n in simple) out.push(simple[n]);
    else if (n === 'x' || n === 'u' || n === 'U') {
      // up to 2, 4 or 8 hex digits; with none, the letter itself (as nasm reads `\x`)
      const m = (n === 'x' ? /^[0-9a-fA-F]{1,2}/ : n === 'u' ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/).exec(body.slice(i + 1));
      if (!m) out.push(n.charCodeAt(0));
      else if (n === 'x') out.push(parseInt(m[0], 16));
      else pushUtf8(out, parseInt(m[0], 16));
      i += m ? m[0].length : 0;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
      out.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else if (n !== '') {
      pushUtf8(out, body.codePointAt(i)!);
      if (body.codePointAt(i)! > 0xffff) i++;
    }
  }
  return Uint8Array.from(out);
}

/** Words that start a statement other than an instruction. */
const STATEMENT_WORD: ReadonlyMap<string, 'times' | 'equ' | 'data' | 'reserve' | 'directive'> = new Map([
  ['times', 'times'], ['equ', 'equ'],
  ...Object.keys(DATA_DIRECTIVES).map((w) => [w, 'data'] as const),
  ...Object.keys(RESERVE_DIRECTIVES).map((w) => [w, 'reserve'] as const),
  ...[...DIRECTIVES].map((w) => [w, 'directive'] as const),
]);

/** Words that start a statement, so an identifier before them is a label even without a colon. */
const KEYWORDS: ReadonlySet<string> = new Set([...STATEMENT_WORD.keys(), ...Object.keys(PREFIXES), ...FORMS.map((f) => f.mnemonic)]);

/** What the parser needs to know about a word, worked out once per distinct spelling. */
interface Word {
  lower: string;
  reg: Register | undefined;
  statement: 'times' | 'equ' | 'data' | 'reserve' | 'directive' | undefined;
  keyword: boolean;
  prefix: boolean;
  /** Width of a size keyword (`dword`: 32), 0 otherwise. */
  size: number;
  /** A word that may come before an operand (size, strict, short/near/far) or inside brackets (byte, nosplit, rel, ...). */
  modifier: boolean;
}

/** Words, besides size keywords, that modify an operand or an address. */
const MODIFIERS: ReadonlySet<string> = new Set(['strict', 'short', 'near', 'far', 'nosplit', 'rel', 'abs']);

const WORDS = new Map<string, Word>();

function word(text: string): Word {
  let w = WORDS.get(text);
  if (w === undefined) {
    const l = text.toLowerCase();
    w = {
      lower: l, reg: registerByName(l), statement: STATEMENT_WORD.get(l), keyword: KEYWORDS.has(l),
      prefix: l in PREFIXES, size: SIZE_KEYWORDS[l] ?? 0, modifier: false,
    };
    w.modifier = Boolean(w.size) || MODIFIERS.has(l);
    if (WORDS.size > 1 << 16) WORDS.clear();
    WORDS.set(text, w);
  }
  return w;
}

/** A word the assembler reads as itself (a register, instruction, prefix, directive, size or operand keyword): never a name of yours. */
export function reservedWord(text: string): boolean {
  const w = word(text);
  return w.reg !== undefined || w.keyword || w.modifier || w.lower === 'seg' || w.lower === 'wrt';
}

/** Lower-cased word, remembered per spelling. */
export function wordLower(text: string): string {
  return word(text).lower;
}

/** Binary operators by precedence level, loosest first. */
const BINARY_LEVEL: ReadonlyMap<string, number> = new Map(
  [
    ['||'], ['^^'], ['&&'], ['=', '==', '!=', '<>', '<', '>', '<=', '>=', '<=>'],
    ['|'], ['^'], ['&'], ['<<', '>>', '<<<', '>>>'], ['+', '-'], ['*', '/', '//', '%', '%%'],
  ].flatMap((ops, level) => ops.map((op) => [op, level] as const)),
);

/** BINARY_LEVEL of single-character operators by character code (-1: none), as most are. */
const SINGLE_LEVEL = Int8Array.from({ length: 128 }, (_, c) => BINARY_LEVEL.get(String.fromCharCode(c)) ?? -1);

/** An operator's binary precedence level, or -1 when it is no binary operator (`,`, `]`, ...). */
export function binaryLevel(op: string): number {
  return op.length === 1 ? (op.charCodeAt(0) < 128 ? SINGLE_LEVEL[op.charCodeAt(0)] : -1) : BINARY_LEVEL.get(op) ?? -1;
}

/** What the parser knows about each atom (ATOMS id), valid for one ATOMS epoch. */
let WORD_BY_ATOM: (Word | undefined)[] = [];
let NUMBER_BY_ATOM: (bigint | null | undefined)[] = [];
/** The Value of a number by atom, shared by every literal of that spelling (values never change). */
let VALUE_BY_ATOM: (Value | undefined)[] = [];
let atomEpoch = -1;

const NUMBERS = new Map<string, bigint | null>();

/** parseNumber, remembered per spelling (interned token texts repeat). */
function numberValue(text: string): bigint | null {
  let v = NUMBERS.get(text);
  if (v === undefined) {
    v = parseNumber(text);
    if (NUMBERS.size > 1 << 16) NUMBERS.clear();
    NUMBERS.set(text, v);
  }
  return v;
}

/** Recursive-descent parser over the significant tokens of one line of a TokenStream. */
class LineParser {
  private pos = 0;
  private end = 0;
  private from = 0;
  private s!: TokenStream;
  /** The stream's atom ids are of the current epoch. */
  private atoms = false;
  /** How deep the expression being read is so far (see MAX_EXPRESSION_DEPTH). */
  private depth = 0;

  /** Parsing is per line and never re-entrant: one parser serves every line. */
  reset(s: TokenStream, from: number, end: number): this {
    this.s = s;
    this.depth = 0;
    this.atoms = s.atomsValid();
    this.pos = from;
    this.from = from;
    this.end = end;
    return this;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }
  /** Word facts for token `i`, by its atom when it has one. */
  wordAt(i: number): Word {
    const a = this.atoms ? this.s.atom[i] : -1;
    if (a < 0) return word(this.s.text[i]);
    return (WORD_BY_ATOM[a] ??= word(this.s.text[i]));
  }
  kindAt(k = 0): number {
    const i = this.pos + k;
    return i < this.end ? this.s.kind[i] : -1;
  }
  textAt(k = 0): string {
    return this.s.text[this.pos + k];
  }
  isOp(text: string, k = 0): boolean {
    const i = this.pos + k;
    return i < this.end && this.s.kind[i] === K_OP && this.s.text[i] === text;
  }
  /** The span of token `i`. */
  tok(i: number): Span {
    return { file: this.s.file[i], start: this.s.start[i], end: this.s.end[i] };
  }
  here(): Span {
    if (this.end === this.from) return { file: 0, start: 0, end: 0 };
    if (this.atEnd()) {
      const last = this.end - 1;
      return { file: this.s.file[last], start: this.s.end[last], end: this.s.end[last] };
    }
    return this.tok(this.pos);
  }
  fail(message: string, span: Span = this.here()): never {
    throw new ParseFailure(spanOf(span), message);
  }
  expectOp(text: string): number {
    if (!this.isOp(text)) this.fail(`expected '${text}'`);
    return this.pos++;
  }
  /** The end of a span in `from`'s file reaching to token `i` (see reach()). */
  reachToken(from: Span, i: number): number {
    return this.s.file[i] === from.file ? Math.max(from.end, this.s.end[i]) : from.end;
  }
  /** The end of a span from `from` reaching to the last token consumed. */
  lastEnd(from: Span): number {
    const last = this.pos - 1;
    return last >= this.from ? this.reachToken(from, last) : from.end;
  }

  // ---- expressions, lowest precedence first ----
  expr(): Expr {
    const test = this.binary(0);
    if (this.isOp('?')) {
      this.pos++;
      this.deeper();
      const then = this.expr();
      this.expectOp(':');
      const otherwise = this.expr();
      this.depth--;
      return { kind: 'cond', test, then, else: otherwise, file: test.file, start: test.start, end: reach(test, otherwise) };
    }
    return test;
  }

  /** Precedence climbing over NASM's binary operators (all left-associative). */
  binary(minLevel: number): Expr {
    const outer = this.depth;
    let left = this.unary();
    for (;;) {
      const level = this.kindAt() === K_OP ? binaryLevel(this.textAt()) : -1;
      if (level < 0 || level < minLevel) {
        this.depth = outer;
        return left;
      }
      const op = this.textAt();
      this.pos++;
      // each operator makes the tree one deeper on the left
      this.deeper();
      const right = this.binary(level + 1);
      left = { kind: 'binary', op, left, right, file: left.file, start: left.start, end: reach(left, right) };
    }
  }

  unary(): Expr {
    if (this.kindAt() === K_OP) {
      const op = this.textAt();
      if (op === '-' || op === '+' || op === '~' || op === '!') {
        const i = this.pos++;
        this.deeper();
        const arg = this.unary();
        this.depth--;
        const at = this.tok(i);
        return { kind: 'unary', op, arg, file: at.file, start: at.start, end: reach(at, arg) };
      }
    }
    return this.primary();
  }

  /** One level deeper into the tree: an error past MAX_EXPRESSION_DEPTH (every pass over a tree recurses). */
  deeper(what = 'expression'): void {
    if (++this.depth > MAX_EXPRESSION_DEPTH) this.fail(`${what} nested more than ${MAX_EXPRESSION_DEPTH} deep`);
  }

  primary(): Expr {
    if (this.atEnd()) this.fail('expected an expression');
    const s = this.s;
    const i = this.pos++;
    const text = s.text[i];
    const file = s.file[i];
    const start = s.start[i];
    const end = s.end[i];
    switch (s.kind[i]) {
      case K_NUMBER: {
        const a = this.atoms ? s.atom[i] : -1;
        let value = a >= 0 ? NUMBER_BY_ATOM[a] : undefined;
        if (value === undefined) {
          value = numberValue(text);
          if (a >= 0) NUMBER_BY_ATOM[a] = value;
        }
        if (value === null) {
          this.fail(isFloatText(text) ? `a floating-point constant ('${text}') can only be data (db, dw, dd, dq, dt), alone` : `invalid number '${text}'`, this.tok(i));
        }
        // v: a memo, present from the start so nodes keep one shape.
        const v = a >= 0 ? (VALUE_BY_ATOM[a] ??= literalValue(value)) : undefined;
        return { kind: 'num', value, file, start, end, v };
      }
      case K_STRING:
        return { kind: 'str', bytes: stringBytes(text), file, start, end };
      case K_HERE:
        return { kind: 'here', file, start, end };
      case K_SECTSTART:
        return { kind: 'sectstart', file, start, end };
      case K_IDENT: {
        const reg = this.wordAt(i).reg;
        if (reg) return { kind: 'reg', reg, file, start, end };
        const fn = this.isOp('(') ? BUILTIN_FUNCTIONS.get(text.toLowerCase()) : undefined;
        if (fn) return this.builtinCall(fn, i);
        const name = text.charCodeAt(0) === 36 /* $ */ ? text.slice(1) : text;
        return { kind: 'sym', name, file, start, end };
      }
      case K_OP:
        if (text === '(') {
          this.deeper();
          const inner = this.expr();
          this.depth--;
          const close = this.expectOp(')');
          return { ...inner, file, start, end: this.reachToken({ file, start, end }, close) };
        }
        break;
      case K_BAD:
        this.fail(text.length > 1 ? 'unterminated string' : `unexpected character '${text}'`, this.tok(i));
    }
    this.fail(`unexpected '${text}' in expression`, this.tok(i));
  }

  // ---- operands ----
  operand(): OperandNode {
    const first0 = this.pos;
    let size = 0;
    let strict = false;
    let distance: '' | 'short' | 'near' | 'far' = '';
    while (this.kindAt() === K_IDENT) {
      const w = this.wordAt(this.pos);
      if (!w.modifier) break;
      if (w.size) size = w.size;
      else if (w.lower === 'strict') strict = true;
      else if (w.lower === 'short' || w.lower === 'near' || w.lower === 'far') distance = w.lower;
      else break;
      this.pos++;
    }
    // The operand's span starts at its first token (a size keyword when there is one).
    const some = first0 < this.end;
    const file = some ? this.s.file[first0] : 0;
    const start = some ? this.s.start[first0] : 0;
    const headEnd = some ? this.s.end[first0] : 0;
    if (this.isOp('[')) {
      const mem = this.memory(size, distance === 'far');
      // With a size keyword in front, the operand starts at the keyword.
      if (mem.start !== start || mem.file !== file) {
        mem.end = reachEnd(file, headEnd, mem);
        mem.file = file;
        mem.start = start;
      }
      return mem;
    }
    // A lone token before a comma or the line's end (most operands) is its own expression:
    // its node without the levels of the expression parser.
    const next = this.pos + 1;
    const lone = this.pos < this.end && this.s.kind[this.pos] !== K_OP && (next === this.end || (this.s.kind[next] === K_OP && this.s.text[next] === ','));
    const first = lone ? this.primary() : this.expr();
    if (this.isOp(':')) {
      this.pos++;
      const offset = this.expr();
      return { kind: 'farptr', seg: first, offset, file, start, end: reachEnd(file, headEnd, offset) };
    }
    if (first.kind === 'reg') {
      // A register expression is already a register operand, with a size that says what the
      // register says (`push dword %1` in a macro called with eax); nasm ignores others, with a warning.
      if (distance !== '') this.fail(`'${distance}' needs a ${distance === 'far' ? 'memory operand or a selector:offset pointer' : 'branch target'}, not a register`, first);
      if (size !== 0 && size !== first.reg.bits) this.fail(`${first.reg.name} is ${first.reg.bits === 8 ? 'an' : 'a'} ${first.reg.bits}-bit register: '${SIZE_NAME[size]}' does not fit it`, first);
      return first;
    }
    if (distance === 'far') this.fail("'far' needs a memory operand or a selector:offset pointer (a flat binary has no segment relocations)", first);
    if (first.kind !== 'num' && someLeaf(first, isRegisterLeaf)) this.fail('a register cannot be used in an immediate expression', first);
    return { kind: 'imm', expr: first, size, strict, distance, file, start, end: reachEnd(file, headEnd, first) };
  }

  memory(size: number, far: boolean): MemoryOperand {
    const open = this.expectOp('[');
    let dispSize = 0;
    let nosplit = false;
    while (this.kindAt() === K_IDENT) {
      const word = this.wordAt(this.pos);
      if (!word.modifier) break;
      const w = word.lower;
      if (w === 'byte' || w === 'word' || w === 'dword') dispSize = SIZE_KEYWORDS[w];
      else if (w === 'nosplit') nosplit = true;
      else if (w === 'rel' || w === 'abs') { /* 64-bit only: accepted and ignored */ } else break;
      this.pos++;
    }
    let seg = null;
    if (this.kindAt() === K_IDENT && this.isOp(':', 1)) {
      const reg = this.wordAt(this.pos).reg;
      if (!reg || reg.cls !== 'sreg') this.fail(`'${this.textAt()}' is not a segment register`, this.tok(this.pos));
      seg = reg;
      this.pos += 2;
    }
    const addr = this.isOp(']') ? null : this.expr();
    const close = this.expectOp(']');
    const at = this.tok(open);
    return { kind: 'mem', size, far, seg, addr, dispSize, nosplit, file: at.file, start: at.start, end: this.reachToken(at, close), shape: undefined };
  }

  /** A Name node for token `i`, with its text as given. */
  name(i: number, text: string): Name {
    return { text, file: this.s.file[i], start: this.s.start[i], end: this.s.end[i] };
  }

  // ---- statements ----
  statement(): Statement | null {
    if (this.atEnd()) return null;
    const k = this.kindAt();
    if (k === K_OP && this.textAt() === '[') return this.bracketDirective();
    if (k !== K_IDENT) this.fail(`expected an instruction or directive, found '${this.textAt()}'`);
    const w = this.wordAt(this.pos);
    const what = w.statement;
    if (what === undefined) return this.instruction();
    const at = this.pos++;
    const name = this.name(at, w.lower);
    const { file, start } = name;
    switch (what) {
      case 'times': {
        const count = this.expr();
        const at = this.pos;
        this.deeper('times prefixes');
        const body = this.statement();
        // nasm repeats instructions and data only; a directive there is a mistake.
        if (!body || (body.kind !== 'instruction' && body.kind !== 'data' && body.kind !== 'reserve' && body.kind !== 'times')) {
          this.fail("'times' must be followed by an instruction or data", at < this.end ? this.tok(at) : this.here());
        }
        // Of nested prefixes the innermost count wins, as in nasm (`times 2 times 3 nop` is 3 nops).
        if (body.kind === 'times') return { ...body, file, start, end: this.lastEnd(name) };
        return { kind: 'times', count, body, file, start, end: this.lastEnd(name) };
      }
      case 'equ': {
        const value = this.expr();
        return { kind: 'equ', value, file, start, end: this.lastEnd(name) };
      }
      case 'data': {
        const items = this.dataItems();
        return { kind: 'data', directive: name, unit: DATA_DIRECTIVES[w.lower], items, file, start, end: this.lastEnd(name) };
      }
      case 'reserve': {
        const count = this.expr();
        return { kind: 'reserve', directive: name, unit: RESERVE_DIRECTIVES[w.lower], count, file, start, end: this.lastEnd(name) };
      }
      case 'directive':
        return this.directive(name);
    }
  }

  /** The remaining tokens of the line as objects (directive arguments). */
  rest(until?: string): Token[] {
    const args: Token[] = [];
    while (!this.atEnd() && !(until !== undefined && this.isOp(until))) args.push(this.s.token(this.pos++));
    return args;
  }

  /** `[name args]`: NASM's primitive form of a directive, parsed like the user-level one. */
  bracketDirective(): Statement {
    const open = this.pos++;
    if (this.kindAt() !== K_IDENT) this.fail('expected a directive after [');
    // The directive's tokens end at the line's last ']'.
    let close = this.end - 1;
    while (close > this.pos && !(this.s.kind[close] === K_OP && this.s.text[close] === ']')) close--;
    if (close <= this.pos) this.fail("expected ']'", this.here());
    const word = this.pos++;
    const name = this.name(word, this.s.text[word].toLowerCase());
    const lineEnd = this.end;
    this.end = close;
    const inner = this.directive(name);
    if (!this.atEnd()) this.fail(`unexpected '${this.textAt()}'`);
    this.end = lineEnd;
    this.pos = close + 1;
    const at = this.tok(open);
    return { ...inner, file: at.file, start: at.start, end: this.reachToken(at, close) };
  }

  directive(name: Name): Statement {
    const { file, start } = name;
    const n = name.text;
    if (n === 'at' || n === 'align' || n === 'alignb') {
      const exprs = [this.expr()];
      let body: Statement | null = null;
      if (this.isOp(',')) {
        this.pos++;
        body = this.statement();
      }
      return { kind: 'directive', name, args: [], exprs, body, file, start, end: this.lastEnd(name) };
    }
    if (n === 'sectalign' && this.kindAt() === K_IDENT && /^(on|off)$/i.test(this.textAt())) {
      const args = [this.s.token(this.pos++)];
      if (!this.atEnd()) this.fail(`unexpected '${this.textAt()}'`);
      return { kind: 'directive', name, args, file, start, end: this.lastEnd(name) };
    }
    if (n === 'org' || n === 'absolute' || n === 'sectalign') {
      const exprs = [this.expr()];
      return { kind: 'directive', name, args: [], exprs, file, start, end: this.lastEnd(name) };
    }
    if (n === 'struc') {
      // struc name[, offset]: the structure's fields start at the offset (0 by default)
      const args = this.rest(',');
      let exprs: Expr[] | undefined;
      if (this.isOp(',')) {
        this.pos++;
        exprs = [this.expr()];
      }
      return { kind: 'directive', name, args, exprs, file, start, end: this.lastEnd(name) };
    }
    const args = this.rest();
    return { kind: 'directive', name, args, file, start, end: this.lastEnd(name) };
  }

  dataItems(): DataItem[] {
    const items: DataItem[] = [];
    if (this.atEnd()) return items; // nasm warns and emits nothing (the assembler warns)
    const s = this.s;
    for (;;) {
      const i = this.pos;
      const k = s.kind[i];
      const alone = i + 1 >= this.end || (s.kind[i + 1] === K_OP && s.text[i + 1] === ',');
      if (k === K_STRING && alone) {
        this.pos++;
        items.push({ kind: 'string', bytes: stringBytes(s.text[i]), file: s.file[i], start: s.start[i], end: s.end[i] });
      } else if (k === K_OP && s.text[i] === '?' && alone) {
        this.pos++;
        items.push({ kind: 'uninit', file: s.file[i], start: s.start[i], end: s.end[i] });
      } else if (this.floatAt(i)) {
        // a floating-point constant, with an optional sign: data only, as in nasm
        const signed = k === K_OP;
        const n = signed ? i + 1 : i;
        const text = s.kind[n] === K_IDENT ? FLOAT_SPECIALS.get(s.text[n].toLowerCase())! : s.text[n];
        this.pos = n + 1;
        items.push({ kind: 'float', text, negative: signed && s.text[i] === '-', file: s.file[i], start: s.start[i], end: s.end[n] });
      } else if (k === K_IDENT && this.isOp('(', 1) && BUILTIN_FUNCTIONS.get(s.text[i].toLowerCase())?.kind === 'utf' && this.itemEndsAfterCall(i)) {
        // `dw __utf16__('ab')`: a string in another encoding, padded to the unit as strings are
        this.pos++;
        const str = this.builtinCall(BUILTIN_FUNCTIONS.get(s.text[i].toLowerCase())!, i);
        items.push({ kind: 'string', bytes: (str as Extract<Expr, { kind: 'str' }>).bytes, file: str.file, start: str.start, end: str.end });
      } else {
        const expr = this.expr();
        items.push({ kind: 'expr', expr, file: expr.file, start: expr.start, end: expr.end });
      }
      if (this.atEnd()) return items;
      this.expectOp(',');
      if (this.atEnd()) return items; // a trailing comma, which nasm allows
    }
  }

  /** Whether a data item at token `i` is a floating-point constant alone (`1.5`, `-2e3`, `__?Infinity?__`). */
  floatAt(i: number): boolean {
    const s = this.s;
    const signed = s.kind[i] === K_OP && (s.text[i] === '-' || s.text[i] === '+');
    const n = signed ? i + 1 : i;
    if (n >= this.end) return false;
    const float = s.kind[n] === K_NUMBER ? isFloatText(s.text[n]) : s.kind[n] === K_IDENT && FLOAT_SPECIALS.has(s.text[n].toLowerCase());
    return float && (n + 1 >= this.end || (s.kind[n + 1] === K_OP && s.text[n + 1] === ','));
  }

  /** Whether the call whose name is token `i` is a whole data item (a `,` or the end follows its `)`). */
  itemEndsAfterCall(i: number): boolean {
    const s = this.s;
    let depth = 0;
    for (let k = i + 1; k < this.end; k++) {
      if (s.kind[k] !== K_OP) continue;
      if (s.text[k] === '(') depth++;
      else if (s.text[k] === ')' && --depth === 0) return k + 1 >= this.end || (s.kind[k + 1] === K_OP && s.text[k + 1] === ',');
    }
    return false;
  }

  /**
   * nasm's built-in functions, the name (token `i`) read, at its `(`: `__?float32?__(1.5)`
   * is the number whose bits are that float, `__?utf16?__('ab')` the string in UTF-16.
   */
  builtinCall(fn: BuiltinFunction, i: number): Expr {
    const s = this.s;
    this.expectOp('(');
    let expr: Expr;
    if (fn.kind === 'float') {
      const sign = this.isOp('-') || this.isOp('+') ? s.text[this.pos++] : '';
      const at = this.pos;
      if (this.kindAt() !== K_NUMBER || !isFloatText(s.text[at])) this.fail(`${s.text[i]} expects a floating-point constant (such as 1.5 or 2e3)`);
      this.pos++;
      const encoded = encodeFloat(s.text[at], sign === '-', fn.format)!;
      let value = 0n;
      for (let b = fn.to - 1; b >= fn.from; b--) value = (value << 8n) | BigInt(encoded.bytes[b]);
      expr = { kind: 'num', value, file: s.file[i], start: s.start[i], end: s.end[i], v: literalValue(value) };
    } else {
      if (this.kindAt() !== K_STRING) this.fail(`${s.text[i]} expects a string`);
      const codePoints = utf8CodePoints(stringBytes(s.text[this.pos++]));
      expr = { kind: 'str', bytes: encodeUtf(codePoints, fn.width, fn.bigEndian), file: s.file[i], start: s.start[i], end: s.end[i] };
    }
    const close = this.expectOp(')');
    expr.end = this.reachToken(expr, close);
    return expr;
  }

  instruction(): Statement {
    let prefixes: Name[] = NO_PREFIXES;
    let at = this.pos++;
    let w = this.wordAt(at);
    while (w.prefix && this.kindAt() === K_IDENT) {
      if (prefixes === NO_PREFIXES) prefixes = [];
      prefixes.push(this.name(at, w.lower));
      at = this.pos++;
      w = this.wordAt(at);
    }
    if (this.s.kind[at] !== K_IDENT) this.fail(`expected an instruction, found '${this.s.text[at]}'`, this.tok(at));
    const mnemonic = this.name(at, w.lower);
    const operands = this.atEnd() ? NO_OPERANDS : this.operands();
    const first = prefixes.length ? prefixes[0] : mnemonic;
    return { kind: 'instruction', prefixes, mnemonic, operands, file: first.file, start: first.start, end: this.lastEnd(first), memo: undefined };
  }

  /**
   * The operand list, in an array of its exact length: a list grown by push carries
   * spare capacity, and every tree keeps its lists for as long as it lives.
   */
  operands(): OperandNode[] {
    const a = this.operand();
    if (this.atEnd()) return [a];
    this.expectOp(',');
    const b = this.operand();
    if (this.atEnd()) return [a, b];
    this.expectOp(',');
    const c = this.operand();
    if (this.atEnd()) return [a, b, c];
    const list = [a, b, c];
    while (!this.atEnd()) {
      this.expectOp(',');
      list.push(this.operand());
    }
    return list;
  }

  label(): Label | null {
    const s = this.s;
    const i = this.pos;
    if (s.kind[i] !== K_IDENT) return null;
    const text = s.text[i];
    const colon = i + 1 < this.end && s.kind[i + 1] === K_OP && s.text[i + 1] === ':';
    const w = this.wordAt(i);
    // As in nasm, a register name is no label (`$si:` is, the `$` marking it as a name).
    if (colon && w.reg) this.fail(`'${text}' is a register, not a label (write $${text} to use it as a name)`, this.tok(i));
    if (!colon) {
      if (w.keyword || w.reg) return null;
      // `name equ 1`, `name db 0`, `name:`-less label alone on its line
      if (i + 1 < this.end && !(s.kind[i + 1] === K_IDENT && this.wordAt(i + 1).keyword)) return null;
    }
    this.pos += colon ? 2 : 1;
    const name = text.charCodeAt(0) === 36 /* $ */ ? text.slice(1) : text;
    return { name, colon, file: s.file[i], start: s.start[i], end: s.end[i] };
  }
}

/**
 * How deep an expression may nest (parentheses, operators: `1+1+...` is as deep as it is
 * long). nasm has no such limit; the passes over a tree recurse, and a file with an
 * expression 100k deep must get an error, not a stack overflow.
 */
const MAX_EXPRESSION_DEPTH = 1000;

const PARSER = new LineParser();

const isRegisterLeaf = (leaf: Expr) => leaf.kind === 'reg';

/** reach() from a span given by its file and end. */
function reachEnd(file: number, end: number, to: Span): number {
  return to.file === file ? Math.max(end, to.end) : end;
}


/** Shared by every instruction without prefixes or operands (a tree is never modified). */
const NO_PREFIXES: Name[] = [];
const NO_OPERANDS: OperandNode[] = [];

/** Shared by every line without errors (most of them), which never adds to it. */
const NO_ERRORS: SyntaxError[] = [];

/** Line `l` of a token stream, parsed. */
export function parseStreamLine(s: TokenStream, l: number): LineNode {
  return parseRange(s, s.lineStart[l], s.lineEnd(l));
}

/** Parses the tokens `from`..`to` of a stream (one logical line, comments allowed). */
export function parseRange(s: TokenStream, from: number, to: number): LineNode {
  if (atomEpoch !== ATOMS.epoch) {
    WORD_BY_ATOM = [];
    NUMBER_BY_ATOM = [];
    VALUE_BY_ATOM = [];
    atomEpoch = ATOMS.epoch;
  }
  // Dense arrays: grown in step with the atom table, never written past their end.
  for (let n = ATOMS.strings.length; WORD_BY_ATOM.length < n; ) {
    WORD_BY_ATOM.push(undefined);
    NUMBER_BY_ATOM.push(undefined);
    VALUE_BY_ATOM.push(undefined);
  }
  let lineEnd = 0;
  if (to > from) {
    // The line's span runs to its last token in the first token's file.
    let last = to - 1;
    while (last > from && s.file[last] !== s.file[from]) last--;
    lineEnd = s.end[last];
  }
  const node: LineNode = {
    file: to > from ? s.file[from] : 0, start: to > from ? s.start[from] : 0, end: lineEnd,
    label: null, statement: null, preproc: null, errors: NO_ERRORS,
  };
  // A comment can only be the last token of a line.
  const end = to > from && s.kind[to - 1] === K_COMMENT ? to - 1 : to;
  if (end === from) return node;
  if (s.kind[from] === K_PP && isDirectiveText(s.text[from])) {
    const args: Token[] = [];
    for (let i = from + 1; i < end; i++) args.push(s.token(i));
    node.preproc = { name: { text: s.text[from].toLowerCase(), file: s.file[from], start: s.start[from], end: s.end[from] }, args };
    return node;
  }
  const p = PARSER.reset(s, from, end);
  try {
    node.label = p.label();
    node.statement = p.statement();
    if (!p.atEnd()) p.fail(`unexpected '${p.textAt()}'`);
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    node.errors = [{ span: e.span, message: e.message, code: e.code } satisfies SyntaxError];
  }
  return node;
}

/** Scratch stream for parsing token objects (macro expansions); never kept by a tree. */
const SCRATCH = new TokenStream('');

/**
 * Parses one logical line given as token objects (trivia allowed, no newline tokens):
 * the lines the preprocessor rewrote.
 */
export function parseLine(tokens: readonly Token[]): LineNode {
  const s = SCRATCH;
  s.reset();
  let last = -1; // a trailing comment belongs to the line's span
  for (const t of tokens) {
    if (t.kind === 'comment') last = s.count;
    else if (t.kind === 'newline') continue;
    // A token's atom is trusted only while it still names its text (a pasted or
    // rewritten token keeps the field of the token it was copied from).
    const a = t.atom;
    s.push(KIND_CODE[t.kind], t.text, t.start, t.end, t.file, a !== undefined && a >= 0 && ATOMS.strings[a] === t.text ? a : -1);
  }
  // parseRange allows a comment only at the end; drop any other.
  if (last >= 0 && last !== s.count - 1) return parseLine(tokens.filter((t) => t.kind !== 'comment'));
  return parseRange(s, 0, s.count);
}

/** What a built-in function makes: a float's bits (bytes `from`..`to` of its encoding), or a string in UTF-16/32. */
type BuiltinFunction =
  | { kind: 'float'; format: FloatFormat; from: number; to: number }
  | { kind: 'utf'; width: 2 | 4; bigEndian: boolean };

/** nasm's functions by lower-cased name, each as `__?name?__` and `__name__`. */
const BUILTIN_FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = new Map(
  ([
    ...(['float8', 'float16', 'bfloat16', 'float32', 'float64'] as const).map((n) => [n, { kind: 'float', format: FLOAT_FORMATS[n], from: 0, to: FLOAT_FORMATS[n].bytes }] as const),
    ['float80m', { kind: 'float', format: FLOAT_FORMATS.float80, from: 0, to: 8 }],
    ['float80e', { kind: 'float', format: FLOAT_FORMATS.float80, from: 8, to: 10 }],
    ['float128l', { kind: 'float', format: FLOAT_FORMATS.float128, from: 0, to: 8 }],
    ['float128h', { kind: 'float', format: FLOAT_FORMATS.float128, from: 8, to: 16 }],
    ['utf16', { kind: 'utf', width: 2, bigEndian: false }],
    ['utf16le', { kind: 'utf', width: 2, bigEndian: false }],
    ['utf16be', { kind: 'utf', width: 2, bigEndian: true }],
    ['utf32', { kind: 'utf', width: 4, bigEndian: false }],
    ['utf32le', { kind: 'utf', width: 4, bigEndian: false }],
    ['utf32be', { kind: 'utf', width: 4, bigEndian: true }],
  ] as [string, BuiltinFunction][]).flatMap(([n, f]) => [[`__?${n}?__`, f], [`__${n}__`, f]] as [string, BuiltinFunction][]),
);
