// Lossless tokenizer for NASM-syntax source. Every character of the input belongs to
// exactly one token (whitespace and comments included), so the tree built on top can
// give every node a source range and the language server can reproduce the text.

export type TokenKind =
  | 'ident' // names: labels, mnemonics, registers, directives; may start with . or ..@ or $
  | 'number'
  | 'string' // '...', "...", `...`
  | 'op' // operators and punctuation
  | 'pp' // preprocessor word: %define, %1, %%label, %0, %+, %$ctx, %{...}
  | 'here' // $
  | 'sectstart' // $$
  | 'comment'
  | 'ws'
  | 'newline'
  | 'bad'; // a character or unterminated literal that cannot start a token

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in its file. */
  start: number;
  /** Which file the token was read from (an index the caller assigns). */
  file: number;
}

const OPERATORS = [
  '<<<', '>>>', '<=>', '//', '%%', '<<', '>>', '==', '!=', '<>', '<=', '>=', '&&', '||', '^^',
  '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '(', ')', '[', ']', ',', ':', '=', '<', '>', '?', '{', '}',
];

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 /* _ */ || c === 46 /* . */ || c === 63 /* ? */ || c === 64 /* @ */;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36 /* $ */ || c === 35 /* # */ || c === 126 /* ~ */;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Tokenizes `text` from `start` to `end` (exclusive). Newlines become 'newline' tokens
 * (a backslash before the newline continues the line and is kept inside a 'ws' token).
 */
export function tokenize(text: string, file = 0, start = 0, end = text.length): Token[] {
  const out: Token[] = [];
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    const s = i;
    if (c === 10 || c === 13) {
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      out.push({ kind: 'newline', text: text.slice(s, i), start: s, file });
    } else if (c === 32 || c === 9 || c === 12 || c === 11) {
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      out.push({ kind: 'ws', text: text.slice(s, i), start: s, file });
    } else if (c === 92 /* \ */ && isContinuation(text, i, end)) {
      i++;
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      i += text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      out.push({ kind: 'ws', text: text.slice(s, i), start: s, file });
    } else if (c === 59 /* ; */) {
      while (i < end && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      out.push({ kind: 'comment', text: text.slice(s, i), start: s, file });
    } else if (c === 39 || c === 34 || c === 96) {
      i = scanString(text, i, end);
      const closed = text.charCodeAt(i - 1) === c && i - s >= 2;
      out.push({ kind: closed ? 'string' : 'bad', text: text.slice(s, i), start: s, file });
    } else if (isDigit(c)) {
      i = scanNumber(text, i, end);
      out.push({ kind: 'number', text: text.slice(s, i), start: s, file });
    } else if (c === 36 /* $ */) {
      if (text.charCodeAt(i + 1) === 36) {
        i += 2;
        out.push({ kind: 'sectstart', text: '$$', start: s, file });
      } else if (i + 1 < end && isDigit(text.charCodeAt(i + 1))) {
        i = scanNumber(text, i + 1, end);
        out.push({ kind: 'number', text: text.slice(s, i), start: s, file });
      } else if (i + 1 < end && isIdentStart(text.charCodeAt(i + 1))) {
        // $name: an identifier escaped from being a register or keyword
        i++;
        while (i < end && isIdentChar(text.charCodeAt(i))) i++;
        out.push({ kind: 'ident', text: text.slice(s, i), start: s, file });
      } else {
        i++;
        out.push({ kind: 'here', text: '$', start: s, file });
      }
    } else if (c === 37 /* % */ && isPreprocStart(text, i, end)) {
      i = scanPreproc(text, i, end);
      out.push({ kind: 'pp', text: text.slice(s, i), start: s, file });
    } else if (isIdentStart(c)) {
      i++;
      while (i < end && isIdentChar(text.charCodeAt(i))) i++;
      out.push({ kind: 'ident', text: text.slice(s, i), start: s, file });
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) {
        i += op.length;
        out.push({ kind: 'op', text: op, start: s, file });
      } else {
        i++;
        out.push({ kind: 'bad', text: text.slice(s, i), start: s, file });
      }
    }
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 12 || c === 11;
}

function isContinuation(text: string, i: number, end: number): boolean {
  let j = i + 1;
  while (j < end && isBlank(text.charCodeAt(j))) j++;
  return j < end && (text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13);
}

function scanString(text: string, i: number, end: number): number {
  const quote = text.charCodeAt(i);
  i++;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i; // unterminated
    if (quote === 96 && c === 92 /* backslash escape inside backquotes */) {
      i += 2;
      continue;
    }
    i++;
    if (c === quote) return i;
  }
  return i;
}

function scanNumber(text: string, i: number, end: number): number {
  // Digits, letters (hex digits, radix prefixes/suffixes), underscores and a fraction/exponent.
  while (i < end) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) i++;
    else if (c === 46 && isDigit(text.charCodeAt(i + 1))) i++;
    else if ((c === 43 || c === 45) && /[eE]/.test(text[i - 1]) && /^[0-9.]+[eE]$/.test(leadingNumber(text, i))) i++;
    else break;
  }
  return i;
}

function leadingNumber(text: string, i: number): string {
  let j = i;
  while (j > 0 && /[0-9a-zA-Z._]/.test(text[j - 1])) j--;
  return text.slice(j, i);
}

function isPreprocStart(text: string, i: number, end: number): boolean {
  if (i + 1 >= end) return false;
  const n = text.charCodeAt(i + 1);
  if (n === 37 || n === 36 || n === 33) {
    // %%label, %$ctx, %!env — but a bare %% is the signed-modulo operator
    return i + 2 < end && isIdentStart(text.charCodeAt(i + 2));
  }
  return isIdentStart(n) || isDigit(n) || n === 43 /* %+ */ || n === 123 /* %{ */
    || (n === 45 /* %-1 */ && isDigit(text.charCodeAt(i + 2)));
}

function scanPreproc(text: string, i: number, end: number): number {
  i++; // %
  const n = text.charCodeAt(i);
  if (n === 123) {
    // %{...}
    while (i < end && text.charCodeAt(i) !== 125 && text.charCodeAt(i) !== 10) i++;
    return text.charCodeAt(i) === 125 ? i + 1 : i;
  }
  if (n === 43) return i + 1; // %+ token pasting
  if (n === 45 || isDigit(n)) {
    if (n === 45) i++;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    return i;
  }
  while (text.charCodeAt(i) === 37 || text.charCodeAt(i) === 36 || text.charCodeAt(i) === 33) i++; // %%, %$, %!
  while (i < end && isIdentChar(text.charCodeAt(i))) i++;
  return i;
}

/** Non-trivia tokens only (what the parser consumes). */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'ws' && t.kind !== 'comment' && t.kind !== 'newline');
}
