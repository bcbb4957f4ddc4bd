// The debugger's expression language: NASM-flavoured integer expressions over the
// guest's registers, symbols and memory, computed in 32-bit unsigned arithmetic like
// the guest's own registers. Conditional breakpoints, the Debug Console, watches and
// setVariable all go through `evaluate`.
//
// A hand-written tokenizer feeds a precedence-climbing parser; the AST is evaluated
// by a small recursive walker. Nothing here throws to the caller: parse and
// evaluation failures come back as `{ ok: false, error }` with a 0-based column.

import { utf8Encode } from '../../asm/src/utf.js';

export interface ExprContext {
  /** A register, flag or `$` by lower-case name; undefined if the name is not one (then it is tried as a symbol). */
  register(name: string): number | undefined;
  /** A symbol's address (labels of the guest image); undefined if unknown. */
  symbol(name: string): number | undefined;
  /** Reads `size` (1, 2 or 4) bytes at a guest virtual address, little-endian; null where nothing is mapped. */
  read(address: number, size: 1 | 2 | 4): number | null;
}

export type UnaryOperator = '-' | '~' | '!' | '+';
export type BinaryOperator =
  | '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '<' | '<=' | '>' | '>='
  | '==' | '!=' | '&' | '^' | '|' | '&&' | '||';

/** A parsed expression. `column` is where the node starts (an operator's own column for `binary`). */
export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly column: number }
  /** A known register or flag (lower-case name), or `$`. */
  | { readonly kind: 'register'; readonly name: string; readonly column: number }
  | { readonly kind: 'symbol'; readonly name: string; readonly column: number }
  /** `column` is the `[`. */
  | { readonly kind: 'memory'; readonly size: 1 | 2 | 4; readonly address: Expr; readonly column: number }
  | { readonly kind: 'unary'; readonly op: UnaryOperator; readonly operand: Expr; readonly column: number }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly column: number };

export interface ExprError {
  message: string;
  /** 0-based column in the source text */
  column: number;
}

/** The register and flag names the language knows (for debug-console completions). */
export const REGISTER_NAMES: readonly string[] = Object.freeze([
  'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp',
  'ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp',
  'al', 'ah', 'bl', 'bh', 'cl', 'ch', 'dl', 'dh',
  'eip', 'eflags',
  'cs', 'ds', 'es', 'fs', 'gs', 'ss',
  'cr0', 'cr2', 'cr3', 'cr4',
  'cf', 'pf', 'af', 'zf', 'sf', 'tf', 'if', 'df', 'of',
]);

const REGISTERS: ReadonlySet<string> = new Set(REGISTER_NAMES);

/** Nesting (and AST height) beyond this is refused, so neither the recursive parser
 *  nor the recursive evaluator can overflow the stack on hostile input. */
const MAX_DEPTH = 256;

// C precedence, higher binds tighter; every binary operator is left-associative.
const PRECEDENCE: ReadonlyMap<string, number> = new Map([
  ['||', 1], ['&&', 2], ['|', 3], ['^', 4], ['&', 5],
  ['==', 6], ['!=', 6], ['<', 7], ['<=', 7], ['>', 7], ['>=', 7],
  ['<<', 8], ['>>', 8], ['+', 9], ['-', 9], ['*', 10], ['/', 10], ['%', 10],
]);
const UNARY: ReadonlySet<string> = new Set(['-', '~', '!', '+']);
const SIZES: ReadonlyMap<string, 1 | 2 | 4> = new Map([['byte', 1], ['word', 2], ['dword', 4]]);
const TWO_CHAR_PUNCT: ReadonlySet<string> = new Set(['<<', '>>', '<=', '>=', '==', '!=', '&&', '||']);
const ONE_CHAR_PUNCT = '()[]+-*/%<>&^|~!';
// NASM radix letters, usable as a `0x`-style prefix or an `h`-style suffix.
const RADIX: Readonly<Record<string, number>> = { b: 2, y: 2, q: 8, o: 8, d: 10, t: 10, h: 16, x: 16 };

/** Internal: unwinds the parser or evaluator to the public entry point. */
class Failure {
  constructor(readonly message: string, readonly column: number) {}
}

function fail(message: string, column: number): never {
  throw new Failure(message, column);
}

/** Source text for a message, cut short so a huge token cannot flood the console. */
function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}
function show(text: string): string {
  return `'${clip(text)}'`;
}

// ---------------------------------------------------------------------------------
// Tokenizer

interface Token {
  readonly kind: 'number' | 'word' | 'punct' | 'end';
  readonly text: string;
  readonly column: number;
  /** For numbers and character constants. */
  readonly value: number;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
function isIdentStart(c: string): boolean {
  return isLetter(c) || c === '_' || c === '.' || c === '@' || c === '?';
}
function isIdentChar(c: string): boolean {
  return isIdentStart(c) || isDigit(c) || c === '$';
}
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0';
}

/**
 * A NASM number's value, or an error message. NASM picks the radix from a `0x`-style
 * prefix or an `h`-style suffix, whichever names the larger radix — which is why
 * `0dh` is hex 0x0d and `0x1b` is hex 0x1b.
 */
function numberValue(text: string): number | string {
  const lower = text.toLowerCase();
  const prefix = lower.length > 2 && lower[0] === '0' ? (RADIX[lower[1]] ?? 0) : 0;
  const suffix = lower.length > 1 ? (RADIX[lower[lower.length - 1]] ?? 0) : 0;
  let digits = lower;
  let radix = 10;
  if (prefix > suffix) {
    radix = prefix;
    digits = lower.slice(2);
  } else if (suffix > prefix) {
    radix = suffix;
    digits = lower.slice(0, -1);
  }
  digits = digits.replaceAll('_', '');
  const invalid = `number ${show(text)} is not valid`;
  if (digits === '') return invalid;
  let value = 0;
  for (const d of digits) {
    const v = isDigit(d) ? d.charCodeAt(0) - 48 : isLetter(d) ? d.charCodeAt(0) - 87 : Infinity;
    if (v >= radix) return invalid;
    value = value * radix + v;
    // Checked per digit so the double never loses precision.
    if (value > 0xffffffff) return `number ${show(text)} does not fit in 32 bits`;
  }
  return value;
}


/** Scans one token at a time, so errors surface in source order as the parser advances. */
class Lexer {
  private pos = 0;
  constructor(private readonly text: string) {}

  next(): Token {
    const s = this.text;
    while (this.pos < s.length && isSpace(s[this.pos])) this.pos++;
    const start = this.pos;
    if (start >= s.length) return { kind: 'end', text: '', column: start, value: 0 };
    const c = s[start];

    if (isDigit(c) || isIdentStart(c) || c === '$') {
      // Numbers take identifier characters too, so `12ab` or `1.5` is one bad number.
      let end = start + 1;
      while (end < s.length && isIdentChar(s[end])) end++;
      this.pos = end;
      const text = s.slice(start, end);
      if (isDigit(c)) {
        const value = numberValue(text);
        if (typeof value === 'string') fail(value, start);
        return { kind: 'number', text, column: start, value };
      }
      // `$` alone is the current eip; NASM's `$$` and `$name` forms are not supported.
      if (c === '$' && text !== '$') fail(`unexpected ${show(text)}`, start);
      return { kind: 'word', text, column: start, value: 0 };
    }

    if (c === "'" || c === '"') {
      const close = s.indexOf(c, start + 1);
      if (close < 0) fail('unterminated character constant', start);
      this.pos = close + 1;
      const text = s.slice(start, close + 1);
      const bytes = utf8Encode(s.slice(start + 1, close)); // as NASM stores a character constant of a UTF-8 source
      if (bytes.length > 4) fail(`character constant ${clip(text)} is longer than 4 bytes`, start);
      // Little-endian: the first character is the low byte, as NASM does.
      const value = bytes.reduceRight((acc, b) => acc * 256 + b, 0);
      return { kind: 'number', text, column: start, value };
    }

    const two = s.slice(start, start + 2);
    if (TWO_CHAR_PUNCT.has(two)) {
      this.pos = start + 2;
      return { kind: 'punct', text: two, column: start, value: 0 };
    }
    if (ONE_CHAR_PUNCT.includes(c)) {
      this.pos = start + 1;
      return { kind: 'punct', text: c, column: start, value: 0 };
    }
    const ch = String.fromCodePoint(s.codePointAt(start) ?? 0);
    fail(c === '=' ? "unexpected '=' (did you mean '=='?)" : `unexpected ${show(ch)}`, start);
  }
}

// ---------------------------------------------------------------------------------
// Parser

class Parser {
  private readonly lexer: Lexer;
  private token: Token;
  /** Current recursion depth (parentheses, brackets, unary and right operands). */
  private nesting = 0;
  /** Height of every node built so far; chains like `1+1+…` deepen the tree without nesting. */
  private readonly heights = new Map<Expr, number>();

  constructor(text: string) {
    this.lexer = new Lexer(text);
    this.token = this.lexer.next();
  }

  parse(): Expr {
    if (this.token.kind === 'end') fail('empty expression', 0);
    const expr = this.binary(1);
    const rest = this.current(); // re-read: TypeScript keeps the narrowing above across the call
    if (rest.kind !== 'end') fail(`trailing input ${show(rest.text)}`, rest.column);
    return expr;
  }

  private current(): Token {
    return this.token;
  }

  private advance(): void {
    this.token = this.lexer.next();
  }

  private isPunct(text: string): boolean {
    return this.token.kind === 'punct' && this.token.text === text;
  }

  private expect(text: string): void {
    if (!this.isPunct(text)) fail(`expected '${text}'`, this.token.column);
    this.advance();
  }

  private enter(column: number): void {
    if (++this.nesting > MAX_DEPTH) fail(`expression is nested too deeply (more than ${MAX_DEPTH} levels)`, column);
  }

  private build<E extends Expr>(node: E, ...children: Expr[]): E {
    let height = 1;
    for (const child of children) height = Math.max(height, (this.heights.get(child) ?? 0) + 1);
    if (height > MAX_DEPTH) fail(`expression is nested too deeply (more than ${MAX_DEPTH} levels)`, node.column);
    this.heights.set(node, height);
    return node;
  }

  /** Precedence climbing: operators binding at least as tight as `minPrecedence`. */
  private binary(minPrecedence: number): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.token;
      const precedence = op.kind === 'punct' ? PRECEDENCE.get(op.text) : undefined;
      if (precedence === undefined || precedence < minPrecedence) return left;
      this.enter(op.column);
      this.advance();
      // `+ 1` makes the right operand stop at an equal operator: left associativity.
      const right = this.binary(precedence + 1);
      this.nesting--;
      left = this.build({ kind: 'binary', op: op.text as BinaryOperator, left, right, column: op.column }, left, right);
    }
  }

  private unary(): Expr {
    const op = this.token;
    if (op.kind !== 'punct' || !UNARY.has(op.text)) return this.primary();
    this.enter(op.column);
    this.advance();
    const operand = this.unary();
    this.nesting--;
    return this.build({ kind: 'unary', op: op.text as UnaryOperator, operand, column: op.column }, operand);
  }

  private primary(): Expr {
    const t = this.token;
    if (t.kind === 'number') {
      this.advance();
      return this.build({ kind: 'number', value: t.value, column: t.column });
    }
    if (t.kind === 'word') {
      const lower = t.text.toLowerCase();
      const size = SIZES.get(lower);
      this.advance();
      if (size !== undefined) {
        if (!this.isPunct('[')) fail(`expected '[' after '${t.text}'`, this.token.column);
        return this.memory(size);
      }
      if (t.text === '$' || REGISTERS.has(lower)) return this.build({ kind: 'register', name: lower, column: t.column });
      return this.build({ kind: 'symbol', name: t.text, column: t.column });
    }
    if (t.kind === 'end') fail('unexpected end of expression', t.column);
    if (t.text === '[') return this.memory(4);
    if (t.text !== '(') fail(`unexpected ${show(t.text)}`, t.column);
    this.enter(t.column);
    this.advance();
    const inner = this.binary(1);
    this.expect(')');
    this.nesting--;
    return inner;
  }

  /** `[address]`, with the current token on the `[`. */
  private memory(size: 1 | 2 | 4): Expr {
    const column = this.token.column;
    this.enter(column);
    this.advance();
    const address = this.binary(1);
    this.expect(']');
    this.nesting--;
    return this.build({ kind: 'memory', size, address, column }, address);
  }
}

export function parseExpression(text: string): { ok: true; expr: Expr } | { ok: false; error: ExprError } {
  try {
    return { ok: true, expr: new Parser(text).parse() };
  } catch (e) {
    if (e instanceof Failure) return { ok: false, error: { message: e.message, column: e.column } };
    throw e;
  }
}

// ---------------------------------------------------------------------------------
// Evaluator

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function evalNode(e: Expr, ctx: ExprContext): number {
  switch (e.kind) {
    case 'number':
      return e.value;
    case 'register': {
      const value = ctx.register(e.name) ?? (e.name === '$' ? ctx.register('eip') : undefined);
      if (value === undefined) fail(`register '${e.name}' is not available`, e.column);
      return value >>> 0;
    }
    case 'symbol': {
      const value = ctx.symbol(e.name);
      if (value === undefined) fail(`unknown symbol ${show(e.name)}`, e.column);
      return value >>> 0;
    }
    case 'memory': {
      const address = evalNode(e.address, ctx);
      const value = ctx.read(address, e.size);
      if (value == null) fail(`address ${hex32(address)} is not mapped`, e.column);
      return value >>> 0;
    }
    case 'unary':
      return unaryOp(e.op, evalNode(e.operand, ctx));
    case 'binary':
      // Short-circuit, so `p && [p]` does not read through a null pointer.
      if (e.op === '&&') return evalNode(e.left, ctx) !== 0 && evalNode(e.right, ctx) !== 0 ? 1 : 0;
      if (e.op === '||') return evalNode(e.left, ctx) !== 0 || evalNode(e.right, ctx) !== 0 ? 1 : 0;
      return binaryOp(e.op, evalNode(e.left, ctx), evalNode(e.right, ctx), e.column);
  }
}

function unaryOp(op: UnaryOperator, v: number): number {
  switch (op) {
    case '-': return -v >>> 0;
    case '~': return ~v >>> 0;
    case '!': return v === 0 ? 1 : 0;
    case '+': return v;
  }
}

/** Operands and result are uint32 held in doubles; every result is brought back with `>>> 0`. */
function binaryOp(op: BinaryOperator, a: number, b: number, column: number): number {
  switch (op) {
    case '*': return Math.imul(a, b) >>> 0;
    case '/':
      if (b === 0) fail('division by zero', column);
      return (a - (a % b)) / b; // exact: `%` on integral doubles is exact
    case '%':
      if (b === 0) fail('division by zero', column);
      return a % b;
    case '+': return (a + b) >>> 0;
    case '-': return (a - b) >>> 0;
    // Shift counts of 32 or more give 0, as in wide arithmetic truncated to 32 bits
    // (JavaScript and the CPU would both take the count modulo 32).
    case '<<': return b >= 32 ? 0 : (a << b) >>> 0;
    case '>>': return b >= 32 ? 0 : a >>> b;
    case '<': return a < b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
    case '==': return a === b ? 1 : 0;
    case '!=': return a !== b ? 1 : 0;
    case '&': return (a & b) >>> 0;
    case '^': return (a ^ b) >>> 0;
    case '|': return (a | b) >>> 0;
    case '&&': return a !== 0 && b !== 0 ? 1 : 0;
    case '||': return a !== 0 || b !== 0 ? 1 : 0;
  }
}

export function evaluateExpression(expr: Expr, ctx: ExprContext): { ok: true; value: number } | { ok: false; error: ExprError } {
  try {
    return { ok: true, value: evalNode(expr, ctx) };
  } catch (e) {
    if (e instanceof Failure) return { ok: false, error: { message: e.message, column: e.column } };
    throw e;
  }
}

/** Parse + evaluate. */
export function evaluate(text: string, ctx: ExprContext): { ok: true; value: number } | { ok: false; error: ExprError } {
  const parsed = parseExpression(text);
  return parsed.ok ? evaluateExpression(parsed.expr, ctx) : parsed;
}
