// Lossless tokenizer for NASM-syntax source: every character of the input is in exactly
// one token, except whitespace (and `\` line continuations), which lies between tokens
// and is recovered from their offsets. Comments are tokens. So every node of the tree
// has a source range and the language server can reproduce the text.

export type TokenKind =
  | 'ident' // names: labels, mnemonics, registers, directives; may start with . or ..@ or $
  | 'number'
  | 'string' // '...', "...", `...`
  | 'op' // operators and punctuation
  | 'pp' // preprocessor word: %define, %1, %%label, %0, %+, %$ctx, %{...}
  | 'here' // $
  | 'sectstart' // $$
  | 'comment'
  | 'newline'
  | 'bad'; // a character or unterminated literal that cannot start a token

/**
 * A token is also the span of its source text (`file`, `start`, `end`), so a node built
 * from one token needs no span of its own. `text` may differ from the source (a macro
 * parameter replaced, a token pasted) while the span stays where it came from.
 */
export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in its file. */
  start: number;
  /** Offset just past the token's source text. */
  end: number;
  /** Which file the token was read from (an index the caller assigns). */
  file: number;
}

// Character classes, indexed by char code (ASCII only; everything else is 'bad').
const IDENT_START = 1;
const IDENT_CHAR = 2;
const DIGIT = 4;
const BLANK = 8;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_.?@]/.test(ch)) CLASS[c] |= IDENT_START | IDENT_CHAR;
  if (/[0-9$#~]/.test(ch)) CLASS[c] |= IDENT_CHAR;
  if (/[0-9]/.test(ch)) CLASS[c] |= DIGIT;
  if (c === 32 || c === 9 || c === 11 || c === 12) CLASS[c] |= BLANK;
}

function is(c: number, cls: number): boolean {
  return c < 128 && (CLASS[c] & cls) !== 0;
}

function isIdentStart(c: number): boolean {
  return is(c, IDENT_START);
}

function isIdentChar(c: number): boolean {
  return is(c, IDENT_CHAR);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isBlank(c: number): boolean {
  return is(c, BLANK);
}

const SINGLE: readonly string[] = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));

/** Length of the operator starting at `i` (0 if none). Longest match wins. */
function operatorLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const n = text.charCodeAt(i + 1);
  switch (c) {
    case 60: // <
      if (n === 60) return text.charCodeAt(i + 2) === 60 ? 3 : 2; // <<< <<
      if (n === 61) return text.charCodeAt(i + 2) === 62 ? 3 : 2; // <=> <=
      return n === 62 ? 2 : 1; // <> <
    case 62: // >
      if (n === 62) return text.charCodeAt(i + 2) === 62 ? 3 : 2; // >>> >>
      return n === 61 ? 2 : 1; // >= >
    case 47: return n === 47 ? 2 : 1; // // /
    case 37: return n === 37 ? 2 : 1; // %% %
    case 61: return n === 61 ? 2 : 1; // == =
    case 33: return n === 61 ? 2 : 1; // != !
    case 38: return n === 38 ? 2 : 1; // && &
    case 124: return n === 124 ? 2 : 1; // || |
    case 94: return n === 94 ? 2 : 1; // ^^ ^
    case 43: case 45: case 42: case 126: case 40: case 41: case 91: case 93: case 44: case 58: case 63: case 123: case 125:
      return 1;
    default:
      return 0;
  }
}

/**
 * Tokenizes `text`. Newlines become 'newline' tokens; a backslash before a newline
 * continues the line.
 */
export function tokenize(text: string, file = 0): Token[] {
  return scan(text, file, null);
}

/**
 * Tokenizes a whole file into its logical lines (newline tokens left out), without an
 * intermediate flat array.
 */
export function tokenizeLines(text: string, file = 0): Token[][] {
  const lines: Token[][] = [];
  scan(text, file, lines);
  return lines;
}

/** The scanner behind both: tokens go to one array, or to one array per line. */
function scan(text: string, file: number, lines: Token[][] | null): Token[] {
  let out: Token[] = [];
  if (lines) lines.push(out);
  const end = text.length;
  let i = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    const s = i;
    let kind: TokenKind;
    if (c === 10 || c === 13) {
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      if (lines) {
        out = [];
        lines.push(out);
        continue;
      }
      kind = 'newline';
    } else if (isBlank(c)) {
      i++;
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      continue;
    } else if (is(c, IDENT_START)) {
      i++;
      while (i < end && is(text.charCodeAt(i), IDENT_CHAR)) i++;
      kind = 'ident';
    } else if (isDigit(c)) {
      i = scanNumber(text, i, end);
      kind = 'number';
    } else if (c === 59 /* ; */) {
      while (i < end && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      kind = 'comment';
    } else if (c === 39 || c === 34 || c === 96) {
      i = scanString(text, i, end);
      kind = text.charCodeAt(i - 1) === c && i - s >= 2 ? 'string' : 'bad';
    } else if (c === 44 /* , */) {
      i++;
      out.push({ kind: 'op', text: ',', start: s, end: i, file });
      continue;
    } else if (c === 36 /* $ */) {
      const n = text.charCodeAt(i + 1);
      if (n === 36) {
        i += 2;
        kind = 'sectstart';
      } else if (i + 1 < end && isDigit(n)) {
        i = scanNumber(text, i + 1, end);
        kind = 'number';
      } else if (i + 1 < end && isIdentStart(n)) {
        // $name: an identifier escaped from being a register or keyword
        i++;
        while (i < end && isIdentChar(text.charCodeAt(i))) i++;
        kind = 'ident';
      } else {
        i++;
        kind = 'here';
      }
    } else if (c === 92 /* \ */ && isContinuation(text, i, end)) {
      // `\` at the end of a line joins the next line to it
      i++;
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      i += text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      continue;
    } else if (c === 37 /* % */ && isPreprocStart(text, i, end)) {
      i = scanPreproc(text, i, end);
      kind = 'pp';
    } else {
      const n = operatorLength(text, i);
      if (n === 1) {
        // Single-character operators share one string each instead of a slice per token.
        i++;
        out.push({ kind: 'op', text: SINGLE[c], start: s, end: i, file });
        continue;
      }
      i += n || 1;
      kind = n ? 'op' : 'bad';
    }
    out.push({ kind, text: text.slice(s, i), start: s, end: i, file });
  }
  return out;
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
  return Math.min(i, end);
}

/** Digits, letters (radix prefixes/suffixes, hex), underscores, a fraction and an exponent. */
function scanNumber(text: string, i: number, end: number): number {
  const first = i;
  let decimal = true; // only digits (and a '.') so far: an 'e' may start an exponent
  while (i < end) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || c === 95) i++;
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      if (decimal && (c === 101 || c === 69)) {
        const n = text.charCodeAt(i + 1);
        if ((n === 43 || n === 45) && isDigit(text.charCodeAt(i + 2))) {
          i += 2;
          continue;
        }
      }
      decimal = false;
      i++;
    } else if (c === 46 && isDigit(text.charCodeAt(i + 1)) && i > first) i++;
    else break;
  }
  return i;
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

/** A preprocessor directive word such as `%define` (not `%1`, `%%x` or `%+`). */
export function isDirectiveToken(t: Token): boolean {
  if (t.kind !== 'pp') return false;
  const c = t.text.charCodeAt(1) | 0x20;
  return c >= 97 && c <= 122;
}

/** Comments and line ends: kept for losslessness, skipped by the parser. */
export function isTrivia(t: Token): boolean {
  return t.kind === 'comment' || t.kind === 'newline';
}

/**
 * The tokens without trivia (what the parser consumes). The same array when there is
 * none, and a shorter copy for the usual case of a trailing comment.
 */
export function significant(tokens: Token[]): Token[] {
  let n = tokens.length;
  while (n > 0 && isTrivia(tokens[n - 1])) n--;
  for (let i = 0; i < n; i++) if (isTrivia(tokens[i])) return tokens.filter((t) => !isTrivia(t));
  return n === tokens.length ? tokens : tokens.slice(0, n);
}
