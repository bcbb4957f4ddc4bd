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

/** A token as an object: what the preprocessor rewrites (a parameter replaced, a token pasted). */
export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in its file. */
  start: number;
  /** Offset just past the token's source text. */
  end: number;
  /** Which file the token was read from (an index the caller assigns). */
  file: number;
  /** Its spelling's id in ATOMS when read from a stream (a hint: valid only while ATOMS.strings[atom] === text). */
  atom?: number;
}

/** Token kinds by their code in a TokenStream. */
export const KINDS: readonly TokenKind[] = ['ident', 'number', 'string', 'op', 'pp', 'here', 'sectstart', 'comment', 'newline', 'bad'];
/** The code of each token kind in a TokenStream. */
export const KIND_CODE: Readonly<Record<TokenKind, number>> = Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<TokenKind, number>;
const K = KIND_CODE;
export const K_IDENT = K.ident;
export const K_NUMBER = K.number;
export const K_STRING = K.string;
export const K_OP = K.op;
export const K_PP = K.pp;
export const K_HERE = K.here;
export const K_SECTSTART = K.sectstart;
export const K_COMMENT = K.comment;
export const K_NEWLINE = K.newline;
export const K_BAD = K.bad;

/**
 * Tokens as parallel arrays, one entry per token: a 10k-line file is a handful of
 * arrays instead of tens of thousands of objects the garbage collector must copy.
 * Identifier and number texts are interned (see AtomTable), so equal words share a string.
 */
export class TokenStream {
  count = 0;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  file: Int32Array;
  /** Identifier and number tokens: the id of their spelling in ATOMS (-1 for others). */
  atom: Int32Array;
  /** Token text; '' for comments (recovered from `source` when asked for). */
  text: string[];
  /** Token index at which each logical line starts; newline tokens end lines. */
  lineStart: number[] = [0];
  /** The ATOMS epoch the atom ids belong to; ids of another epoch are meaningless. */
  epoch = ATOMS.epoch;

  constructor(readonly source: string, capacity = 16) {
    this.kind = new Uint8Array(capacity);
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.file = new Int32Array(capacity);
    this.atom = new Int32Array(capacity);
    this.text = new Array<string>(capacity);
  }

  get lines(): number {
    return this.lineStart.length;
  }

  /** One past the last token of line `l` (its newline excluded). */
  lineEnd(l: number): number {
    return l + 1 < this.lineStart.length ? this.lineStart[l + 1] - 1 : this.count;
  }

  push(kind: number, text: string, start: number, end: number, file: number, atom = -1): void {
    const i = this.count;
    if (i === this.kind.length) this.grow();
    this.kind[i] = kind;
    this.atom[i] = atom;
    this.text[i] = text;
    this.start[i] = start;
    this.end[i] = end;
    this.file[i] = file;
    this.count = i + 1;
  }

  /** Empties the stream for reuse (the parser's scratch input). */
  reset(): void {
    this.count = 0;
    this.epoch = ATOMS.epoch;
    if (this.lineStart.length !== 1) this.lineStart.length = 1;
  }

  /** Doubles the capacity (the scanner calls it when full). */
  grow(): void {
    const n = this.kind.length * 2;
    this.kind = widened(this.kind, new Uint8Array(n));
    this.start = widened(this.start, new Int32Array(n));
    this.end = widened(this.end, new Int32Array(n));
    this.file = widened(this.file, new Int32Array(n));
    this.atom = widened(this.atom, new Int32Array(n));
    this.text.length = n;
  }

  textAt(i: number): string {
    return this.kind[i] === K_COMMENT ? this.source.slice(this.start[i], this.end[i]) : this.text[i];
  }

  token(i: number): Token {
    const atom = this.epoch === ATOMS.epoch ? this.atom[i] : -1;
    return { kind: KINDS[this.kind[i]], text: this.textAt(i), start: this.start[i], end: this.end[i], file: this.file[i], atom };
  }

  /** Ids usable now: the stream was lexed in the current ATOMS epoch. */
  atomsValid(): boolean {
    return this.epoch === ATOMS.epoch;
  }

  /** The tokens of line `l` as objects (comments included). */
  lineTokens(l: number): Token[] {
    const from = this.lineStart[l];
    const out = new Array<Token>(this.lineEnd(l) - from);
    for (let k = 0; k < out.length; k++) out[k] = this.token(from + k);
    return out;
  }
}

/** `to`, holding `from`'s contents at its start. */
function widened<A extends Uint8Array | Int32Array>(from: A, to: A): A {
  to.set(from);
  return to;
}

/**
 * Interned identifier and number spellings, each with a small integer id, looked up
 * by a key computed while scanning: a repeated word costs no string and no Map lookup,
 * and the parser keeps what it knows about a word in an array indexed by its id.
 *
 * A word of at most SHORT ASCII characters is its own key (7 bits a character, exact in
 * a double), so finding it compares two numbers and never reads the interned string; a
 * longer word's key is a hash, checked character by character.
 */
class AtomTable {
  /** Bumped when the table is emptied: ids from before are meaningless. */
  epoch = 0;
  strings: string[] = [];
  private slots = new Int32Array(1 << 12); // id + 1, 0 for empty
  private keys = new Float64Array(1 << 12);
  /** The word's length when its key is the word itself (short and ASCII), else 0. */
  private exact = new Uint8Array(1 << 12);

  /** The id of `text.slice(s, e)`, whose key is `key` (see wordKey). */
  find(text: string, s: number, e: number, key: number): number {
    const mask = this.slots.length - 1;
    const len = e - s;
    // The scanner's words are ASCII, so a short one is exact.
    const exact = len <= SHORT ? len : 0;
    for (let j = probe(key) & mask; ; j = (j + 1) & mask) {
      const slot = this.slots[j];
      if (slot === 0) return this.add(text.slice(s, e), key, exact, j);
      if (this.keys[j] !== key || this.exact[j] !== exact) continue;
      if (exact !== 0) return slot - 1;
      const a = this.strings[slot - 1];
      if (a.length !== len) continue;
      let k = 0;
      while (k < len && a.charCodeAt(k) === text.charCodeAt(s + k)) k++;
      if (k === len) return slot - 1;
    }
  }

  /** The id of the spelling `a + b` (two tokens pasted together), found without building it first. */
  internPair(a: string, b: string): number {
    // A macro pastes the same pair at every call (`__HYPERVISOR_%1`): the last one is remembered.
    if (a === this.pairA && b === this.pairB) return this.pairAtom;
    const len = a.length + b.length;
    let packed = 0;
    let h = 0;
    let high = 0;
    for (let i = 0; i < a.length; i++) {
      const c = a.charCodeAt(i);
      packed = packed * 128 + c;
      h = (Math.imul(h, 31) + c) | 0;
      high |= c;
    }
    for (let i = 0; i < b.length; i++) {
      const c = b.charCodeAt(i);
      packed = packed * 128 + c;
      h = (Math.imul(h, 31) + c) | 0;
      high |= c;
    }
    const id = this.findPair(a, b, len, packed, h, high < 128);
    this.pairA = a;
    this.pairB = b;
    this.pairAtom = id;
    return id;
  }

  private pairA: string | null = null;
  private pairB: string | null = null;
  private pairAtom = -1;

  private findPair(a: string, b: string, len: number, packed: number, h: number, ascii: boolean): number {
    const exact = len <= SHORT && ascii ? len : 0;
    const key = exact !== 0 ? packed : h;
    const mask = this.slots.length - 1;
    for (let j = probe(key) & mask; ; j = (j + 1) & mask) {
      const slot = this.slots[j];
      if (slot === 0) return this.add(a + b, key, exact, j);
      if (this.keys[j] !== key || this.exact[j] !== exact) continue;
      if (exact !== 0) return slot - 1;
      const s = this.strings[slot - 1];
      if (s.length === len && s.startsWith(a) && s.endsWith(b)) return slot - 1;
    }
  }

  private add(str: string, key: number, exact: number, j: number): number {
    const id = this.strings.length;
    this.strings.push(str);
    this.slots[j] = id + 1;
    this.keys[j] = key;
    this.exact[j] = exact;
    if (this.strings.length * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const oldSlots = this.slots;
    const oldKeys = this.keys;
    const oldExact = this.exact;
    this.slots = new Int32Array(oldSlots.length * 2);
    this.keys = new Float64Array(oldSlots.length * 2);
    this.exact = new Uint8Array(oldSlots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      if (oldSlots[i] === 0) continue;
      let j = probe(oldKeys[i]) & mask;
      while (this.slots[j] !== 0) j = (j + 1) & mask;
      this.slots[j] = oldSlots[i];
      this.keys[j] = oldKeys[i];
      this.exact[j] = oldExact[i];
    }
  }

  /**
   * Bounded: a long editing session must not grow the table forever. Called between
   * assemblies (Preprocessor.run), so one run's ids all belong to one epoch.
   */
  trim(): void {
    if (this.strings.length < MAX_ATOMS) return;
    this.strings = [];
    this.slots = new Int32Array(1 << 12);
    this.keys = new Float64Array(1 << 12);
    this.exact = new Uint8Array(1 << 12);
    this.pairA = this.pairB = null;
    this.epoch++;
  }
}

const MAX_ATOMS = 1 << 20;
export const ATOMS = new AtomTable();

/** Words of at most this many characters are their own key (7 x 7 bits, exact in a double). */
const SHORT = 7;

/** A table slot from a key: short words' keys keep their last characters in the low bits, so mix. */
function probe(key: number): number {
  const m = Math.imul((key | 0) ^ ((key / 0x100000000) | 0), 0x9e3779b1);
  return m ^ (m >>> 15);
}

/** The atom key of `text.slice(s, e)` (ASCII), as the scanner computes it while reading. */
function wordKey(text: string, s: number, e: number): number {
  let packed = 0;
  let h = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    packed = packed * 128 + c;
    h = (Math.imul(h, 31) + c) | 0;
  }
  return e - s <= SHORT ? packed : h;
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

/** Tokenizes `text` into a stream; a backslash before a newline continues the line. */
export function lex(text: string, file = 0): TokenStream {
  const out = new TokenStream(text, Math.max(16, (text.length / 3) | 0));
  // Room for a line per 12 characters (source lines are longer): the line table is not
  // grown by push on the way (which copies it a dozen times), and is cut to the lines found.
  // (Made larger, a 10k-line file's would be a large object, which counts towards the old
  // generation's limit: more full collections.)
  out.lineStart = new Array<number>(((text.length / 12) | 0) + 16);
  out.lineStart[0] = 0;
  out.lineStart.length = scan(text, file, out, out.lineStart);
  return out;
}

/** What relex() gives: the new stream, and which of its lines are the old stream's. */
export interface Relexed {
  stream: TokenStream;
  /** Its first `kept` lines are the old stream's first lines (the same tokens). */
  kept: number;
  /** Its last `tail` lines are the old stream's last lines, `delta` characters further on. */
  tail: number;
  delta: number;
}

/**
 * Lexes `text`, a new version of the text `prev` was lexed from (an edit). Only the lines
 * the edit touched are scanned: the lines before the first changed character keep their
 * tokens, and the lines after the last one are the old lines' tokens moved by the change
 * in length (both copied, not scanned). The result is what lex() gives.
 */
export function relex(prev: TokenStream, text: string, file = 0): Relexed {
  if (!prev.atomsValid()) return { stream: lex(text, file), kept: 0, tail: 0, delta: 0 };
  const old = prev.source;
  const d = commonPrefix(old, text);
  const e = commonSuffix(old, text, Math.min(old.length, text.length) - d);
  const kept = keptLines(prev, d);
  const tokens = prev.lineStart[kept];
  const from = lineStartChar(prev, kept);
  const delta = text.length - old.length;
  // Room for the old stream's tokens and a token per character added (grown if not enough).
  const out = new TokenStream(text, prev.count + Math.max(0, delta) + 64);
  out.kind.set(prev.kind.subarray(0, tokens));
  out.start.set(prev.start.subarray(0, tokens));
  out.end.set(prev.end.subarray(0, tokens));
  out.atom.set(prev.atom.subarray(0, tokens));
  copyTexts(prev, 0, out, 0, tokens);
  out.count = tokens;
  out.lineStart = new Array<number>(((text.length / 12) | 0) + 16);
  for (let l = 0; l <= kept; l++) out.lineStart[l] = prev.lineStart[l];
  // The scan stops at a line start where an old line starting in the common suffix lands:
  // from there on the text is the old text, and each line lexes on its own.
  let next = firstLineAtOrAfter(prev, old.length - e);
  let tailFrom = -1;
  const stop = (p: number): boolean => {
    while (next < prev.lines && lineStartChar(prev, next) + delta < p) next++;
    if (next < prev.lines && lineStartChar(prev, next) + delta === p) tailFrom = next;
    return tailFrom >= 0;
  };
  let lines = kept + 1;
  if (!stop(from)) lines = scan(text, file, out, out.lineStart, from, kept + 1, stop);
  let tail = 0;
  if (tailFrom >= 0) {
    // Line tailFrom of the old stream is line lines-1 of the new one, at token out.count.
    const first = prev.lineStart[tailFrom];
    const count = prev.count - first;
    const at = out.count;
    while (out.kind.length < at + count) out.grow();
    out.kind.set(prev.kind.subarray(first, prev.count), at);
    out.atom.set(prev.atom.subarray(first, prev.count), at);
    const starts = out.start;
    const ends = out.end;
    for (let i = 0; i < count; i++) {
      starts[at + i] = prev.start[first + i] + delta;
      ends[at + i] = prev.end[first + i] + delta;
    }
    copyTexts(prev, first, out, at, count);
    out.count = at + count;
    for (let l = tailFrom + 1; l < prev.lines; l++) out.lineStart[lines++] = prev.lineStart[l] - first + at;
    tail = prev.lines - tailFrom;
  }
  out.lineStart.length = lines;
  out.file.fill(file, 0, out.count);
  return { stream: out, kept, tail, delta };
}

/**
 * Compared a block at a time (string equality compares in native code, a substring of a
 * flat string is a view): a character loop over a 10k-line file costs milliseconds.
 */
const BLOCK = 512;

/** How many characters `a` and `b` have in common at their start. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let d = 0;
  while (d + BLOCK <= n && a.substring(d, d + BLOCK) === b.substring(d, d + BLOCK)) d += BLOCK;
  while (d < n && a.charCodeAt(d) === b.charCodeAt(d)) d++;
  return d;
}

/** How many characters (at most `max`) `a` and `b` have in common at their end. */
function commonSuffix(a: string, b: string, max: number): number {
  let e = 0;
  while (e + BLOCK <= max && a.substring(a.length - e - BLOCK, a.length - e) === b.substring(b.length - e - BLOCK, b.length - e)) e += BLOCK;
  while (e < max && a.charCodeAt(a.length - 1 - e) === b.charCodeAt(b.length - 1 - e)) e++;
  return e;
}

function copyTexts(from: TokenStream, i: number, to: TokenStream, j: number, count: number): void {
  const a = from.text;
  const b = to.text;
  for (let k = 0; k < count; k++) b[j + k] = a[i + k];
}

/** Where line `l` of a stream starts: after the previous line's newline token. */
function lineStartChar(s: TokenStream, l: number): number {
  return l === 0 ? 0 : s.end[s.lineStart[l] - 1];
}

/** The first line of `s` that starts at or after character `c` (s.lines when none does). */
function firstLineAtOrAfter(s: TokenStream, c: number): number {
  let lo = 0;
  let hi = s.lines;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lineStartChar(s, mid) < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How many of `prev`'s first lines lie before character `d` (the first that changed),
 * newline included, and the character after it (a `\r` newline looks at it): no token
 * of such a line looks further, so they lex as before.
 */
function keptLines(prev: TokenStream, d: number): number {
  // The last line k whose start (the end of line k-1's newline token) is at or before d,
  // before it if that newline is a lone \r: lines 0..k-1 and what they looked at lie in
  // the common prefix.
  let lo = 0;
  let hi = prev.lines - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const newline = prev.lineStart[mid] - 1;
    const start = prev.end[newline];
    if (start < d || (start === d && prev.text[newline] !== '\r')) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Tokenizes `text` into objects, newline tokens included. */
export function tokenize(text: string, file = 0): Token[] {
  const s = lex(text, file);
  const out: Token[] = [];
  for (let i = 0; i < s.count; i++) out.push(s.token(i));
  return out;
}

/** Tokenizes a whole file into its logical lines (newline tokens left out). */
export function tokenizeLines(text: string, file = 0): Token[][] {
  const s = lex(text, file);
  const lines: Token[][] = [];
  for (let l = 0; l < s.lines; l++) lines.push(s.lineTokens(l));
  return lines;
}

/**
 * Scans `text` from character `from` (a line's start) into `out`, writing where each line
 * starts to `lines` (from index `lineCount`); returns the number of lines. Stops at a line
 * start (character) for which `stop` says so.
 */
function scan(text: string, file: number, out: TokenStream, lines: number[], from = 0, lineCount = 1, stop?: (lineStart: number) => boolean): number {
  const end = text.length;
  // The stream's arrays in locals: this loop runs once per character of every file.
  let kinds = out.kind;
  let starts = out.start;
  let ends = out.end;
  let texts = out.text;
  let atomIds = out.atom;
  const atoms = ATOMS;
  const strings = atoms.strings;
  let n = out.count;
  let i = from;
  const hasCR = text.indexOf('\r') >= 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    const s = i;
    let kind: number;
    let t: string;
    let atom = -1;
    if (c === 32 || c === 9) {
      // A run of blanks (indentation) in one go.
      let d;
      do d = text.charCodeAt(++i);
      while (d === 32 || d === 9);
      continue;
    }
    if (c < 128 && (CLASS[c] & IDENT_START) !== 0) {
      // Both keys of wordKey() at once: the packed characters and the hash.
      let packed = c;
      let h = c;
      i++;
      for (;;) {
        const d = text.charCodeAt(i);
        if (d < 128 && (CLASS[d] & IDENT_CHAR) !== 0) {
          packed = packed * 128 + d;
          h = (Math.imul(h, 31) + d) | 0;
          i++;
        } else break;
      }
      if (c === 63 && i - s === 1) {
        // `?` alone is not a name (it may start one) but nasm's question mark: uninitialised
        // data (`dd ?`) and the conditional operator
        kind = K_OP;
        t = '?';
      } else {
        kind = K_IDENT;
        atom = atoms.find(text, s, i, i - s <= SHORT ? packed : h);
        t = strings[atom];
      }
    } else if (c === 10 || c === 13) {
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      kind = K_NEWLINE;
      t = i - s === 2 ? '\r\n' : SINGLE[c];
    } else if (c >= 48 && c <= 57) {
      i = scanNumber(text, i, end);
      kind = K_NUMBER;
      atom = atoms.find(text, s, i, wordKey(text, s, i));
      t = strings[atom];
    } else if (c === 44 /* , */) {
      i++;
      kind = K_OP;
      t = ',';
    } else if (c === 59 /* ; */) {
      // To the line end: indexOf finds the newline; a \r before it ends the comment too.
      const nl = text.indexOf('\n', i);
      const stop = nl < 0 ? end : nl;
      const cr = hasCR ? text.indexOf('\r', i) : -1;
      i = cr >= 0 && cr < stop ? cr : stop;
      kind = K_COMMENT;
      t = '';
    } else if (isBlank(c)) {
      i++;
      continue;
    } else if (c === 39 || c === 34 || c === 96) {
      i = scanString(text, i, end);
      kind = stringClosed ? K_STRING : K_BAD;
      t = text.slice(s, i);
    } else if (c === 36 /* $ */) {
      const d = text.charCodeAt(i + 1);
      if (d === 36) {
        i += 2;
        kind = K_SECTSTART;
      } else if (i + 1 < end && isDigit(d)) {
        i = scanNumber(text, i + 1, end);
        kind = K_NUMBER;
      } else if (i + 1 < end && isIdentStart(d)) {
        // $name: an identifier escaped from being a register or keyword
        i++;
        while (i < end && isIdentChar(text.charCodeAt(i))) i++;
        kind = K_IDENT;
      } else {
        i++;
        kind = K_HERE;
      }
      t = text.slice(s, i);
    } else if (c === 92 /* \ */ && isContinuation(text, i, end)) {
      // `\` at the end of a line joins the next line to it
      i++;
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      i += text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      continue;
    } else if (c === 37 /* % */ && isPreprocStart(text, i, end)) {
      i = scanPreproc(text, i, end);
      kind = K_PP;
      t = text.slice(s, i);
    } else {
      const len = operatorLength(text, i);
      i += len || 1;
      kind = len ? K_OP : K_BAD;
      // Single-character operators share one string each.
      t = len === 1 ? SINGLE[c] : text.slice(s, i);
    }
    if (n === kinds.length) {
      out.count = n;
      out.grow();
      kinds = out.kind;
      starts = out.start;
      ends = out.end;
      texts = out.text;
      atomIds = out.atom;
    }
    kinds[n] = kind;
    atomIds[n] = atom;
    starts[n] = s;
    ends[n] = i;
    texts[n] = t;
    n++;
    if (kind === K_NEWLINE) {
      lines[lineCount++] = n;
      if (stop !== undefined && stop(i)) break;
    }
  }
  out.count = n;
  // A new stream's arrays are zeroed: file 0 (the root file) needs no fill.
  if (file !== 0) out.file.fill(file, 0, n);
  return lineCount;
}

function isContinuation(text: string, i: number, end: number): boolean {
  let j = i + 1;
  while (j < end && isBlank(text.charCodeAt(j))) j++;
  return j < end && (text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13);
}

/** Whether the string scanString() last read has its closing quote. */
let stringClosed = false;

/** Where the string starting at `i` ends (at the end of its line when it is unterminated). */
function scanString(text: string, i: number, end: number): number {
  const quote = text.charCodeAt(i);
  stringClosed = false;
  i++;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i; // unterminated
    if (quote === 96 && c === 92 /* backslash escape inside backquotes */) {
      // (a backslash escapes no line end: `\ at the end of a line is unterminated)
      const n = text.charCodeAt(i + 1);
      if (i + 1 >= end || n === 10 || n === 13) return i + 1;
      i += 2;
      continue;
    }
    i++;
    if (c === quote) {
      stringClosed = true;
      return i;
    }
  }
  return Math.min(i, end);
}

/** Digits, letters (radix prefixes/suffixes, hex), underscores, a fraction and an exponent. */
function scanNumber(text: string, i: number, end: number): number {
  const first = i;
  let decimal = true; // only digits (and a '.') so far: an 'e' may start an exponent
  // 0x, 0h, 0b, 0y, 0o, 0q: a float in that radix may have a point and a `p` exponent (`0x1.8p-3`)
  const p = text.charCodeAt(i + 1) | 0x20;
  const radix = text.charCodeAt(i) === 48 && (p === 120 || p === 104 || p === 98 || p === 121 || p === 111 || p === 113);
  while (i < end) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || c === 95) i++;
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      const n = text.charCodeAt(i + 1);
      const exponent = decimal ? c === 101 || c === 69 : radix && i > first + 1 && (c === 112 || c === 80);
      if (exponent && (n === 43 || n === 45) && isDigit(text.charCodeAt(i + 2))) {
        i += 3;
        continue;
      }
      decimal = false;
      i++;
    } else if (c === 46 && i > first && (decimal || radix || isDigit(text.charCodeAt(i + 1)))) i++; // `1.5`, `3.` (a float, as nasm reads it), `0x1.8`
    else break;
  }
  return i;
}

function isPreprocStart(text: string, i: number, end: number): boolean {
  if (i + 1 >= end) return false;
  const n = text.charCodeAt(i + 1);
  if (n === 33 && isQuote(text.charCodeAt(i + 2))) return true; // %!'NAME'
  if (n === 37 || n === 36 || n === 33) {
    // %%label, %$ctx (%$$outer ...), %!env — but a bare %% is the signed-modulo operator
    let j = i + 2;
    if (n === 36) while (j < end && text.charCodeAt(j) === 36) j++;
    return j < end && isIdentStart(text.charCodeAt(j));
  }
  return isIdentStart(n) || isDigit(n) || n === 43 /* %+ */ || n === 123 /* %{ */ || n === 91 /* %[ */
    || (n === 45 /* %-1 */ && isDigit(text.charCodeAt(i + 2)));
}

function isQuote(c: number): boolean {
  return c === 39 || c === 34 || c === 96;
}

function scanPreproc(text: string, i: number, end: number): number {
  i++; // %
  const n = text.charCodeAt(i);
  if (n === 33 && isQuote(text.charCodeAt(i + 1))) {
    // %!'NAME': to the closing quote (or the line's end)
    const quote = text.charCodeAt(i + 1);
    for (i += 2; i < end && text.charCodeAt(i) !== quote && text.charCodeAt(i) !== 10; i++);
    return text.charCodeAt(i) === quote ? i + 1 : i;
  }
  if (n === 123) {
    // %{...}
    while (i < end && text.charCodeAt(i) !== 125 && text.charCodeAt(i) !== 10) i++;
    return text.charCodeAt(i) === 125 ? i + 1 : i;
  }
  if (n === 91) {
    // %[...] (indirection), brackets nested, on one line
    let depth = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 13) return i;
      if (c === 91) depth++;
      else if (c === 93 && --depth === 0) return i + 1;
    }
    return i;
  }
  if (n === 43) {
    // %+ pastes tokens; %+1 is parameter 1 as a condition code
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    return i;
  }
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
  return t.kind === 'pp' && isDirectiveText(t.text);
}

/** Whether a 'pp' token's text is a directive word. */
export function isDirectiveText(text: string): boolean {
  const c = text.charCodeAt(1) | 0x20;
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
