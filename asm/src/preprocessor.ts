// NASM's preprocessor: %define/%xdefine/%idefine/%undef/%assign, %macro/%endmacro
// (and %rmacro, the only kind expanded within itself) with parameter ranges, defaults,
// greedy parameters, %% local labels, %+n/%-n condition codes (%-n inverted), %rep, %include,
// %if/%elif/%else/%endif with their %ifdef/%ifidn/%ifctx/... variants, the context
// stack (%push/%pop/%repl, %$ labels), %strlen/%strcat/%substr/%defstr/%deftok,
// __LINE__/__FILE__, nasm's version and __BITS__, %[...] indirection, %error, %exitrep/%exitmacro.
// It turns a root file into a stream of parsed lines, each remembering the chain of
// %include and macro invocations it came from so errors land in the user's file.

import { ATOMS, isDirectiveToken, isTrivia, K_IDENT, K_PP, KIND_CODE, lex, relex, significant, tokenize, type Token, type TokenStream } from './lexer.js';
import { parseLine, parseNumber, parseStreamLine, stringBytes, wordLower } from './parser.js';
import { lineColumn, makeSourceFile, type SourceFile, type SourceProvider } from './source.js';
import { DiagnosticList, type Diagnostic } from './diagnostics.js';
import { moveLine, movedLine, reach, spanOf, type Expr, type LineNode, type Span, type Statement } from './syntax.js';
import { evaluate, EvalError, type EvalEnv } from './expr.js';
import { CONDITIONS } from '../../isa/src/index.js';
import { BUILTIN_PREFIX } from './builtins.js';

/** One step in the chain that produced a line: an %include or a macro call site. */
export interface Frame {
  kind: 'include' | 'macro';
  /** The %include line or the macro invocation line. */
  span: Span;
  /** The included path or the macro name. */
  name: string;
}

export interface ExpandedLine {
  node: LineNode;
  /** Outermost first; empty for a line written directly in the root file. */
  stack: readonly Frame[];
}

export interface PreprocessResult {
  files: SourceFile[];
  /** The expanded lines, as objects made when first read (the assembler reads `nodes` and `stacks`). */
  readonly lines: ExpandedLine[];
  /** Each expanded line's tree, in order. */
  nodes: LineNode[];
  /** Each expanded line's frames (lines of one file or macro call share one array). */
  stacks: (readonly Frame[])[];
  diagnostics: Diagnostic[];
  /** Per file: its lines as parsed before expansion (for editors). */
  trees: Map<number, LineNode[]>;
}

interface Define {
  params: string[] | null;
  body: Token[];
  caseless: boolean;
  /** nasm's __LINE__ and __FILE__: the line being read, and its file. */
  dynamic?: 'line' | 'file';
}

interface Macro {
  name: string;
  min: number;
  max: number; // Infinity for '*'
  greedy: boolean;
  defaults: Token[][];
  body: Token[][];
  /** Which body lines have no `%` token, and their trees once parsed (shared by every call). */
  plain: Uint8Array;
  parsed: (LineNode | undefined)[];
  span: Span;
  /** Declared with %rmacro: it may be invoked within its own expansion. */
  recursive: boolean;
  /** Its body names `%00` (the call's label), which then is not a line of its own. */
  takesLabel: boolean;
}

/** A line's tokens as expanded, and its tree (see cachedParse). */
interface Expansion {
  tokens: Token[];
  node: LineNode;
}

interface Cond {
  /** Lines in this branch are processed. */
  active: boolean;
  /** Some branch of this %if was already taken. */
  taken: boolean;
  /** The enclosing context was active. */
  parent: boolean;
  elseSeen: boolean;
  span: Span;
}

/** A file's tokens and parse trees, kept across runs while its text is unchanged. */
interface FileLines {
  text: string;
  stream: TokenStream;
  parsed: LineNode[];
  /** Per line: 1 when it has no preprocessor token (`%...`), so only defines and macros can change it. */
  plain: Uint8Array;
  /** Per line: 1 when it is a user-level `section` directive (which sets __SECT__). */
  sectionLine: Uint8Array;
}

/** A source of raw lines: a file (as a stream), a macro body or a %rep body (as token lists). */
interface LineSource {
  /** Token lists, for a macro or %rep body. */
  lines: Token[][] | null;
  /** The file, for a file source. */
  file: FileLines | null;
  /** Number of lines. */
  count: number;
  /** Per line: 1 when it has no `%` token, so only defines and macros can change it. */
  plain: Uint8Array;
  /** Trees of plain lines, parsed once and reused while no define or macro touches them. */
  parsed: (LineNode | undefined)[];
  index: number;
  stack: readonly Frame[];
  /** Macro call bindings, when this source is a macro body (or a %rep body inside one). */
  call: MacroCall | undefined;
  /** Remaining %rep iterations, when this source is a %rep body. */
  repeat: number | undefined;
  condDepth: number;
}

interface MacroCall {
  macro: Macro;
  args: Token[][];
  unique: number;
  /** The macro's name as the call wrote it (`%?`; `%??` is the name as defined). */
  name: Token;
  /** The label before the call (`%00`), if any. */
  label: Token | null;
}

/**
 * What each word is to the preprocessor, by its atom id: NAME_DEFINE and NAME_MACRO bits,
 * valid where its stamp is the running preprocessor's `names` version (a new one whenever
 * a define or macro comes or goes). Most lines name neither, and reading an array is
 * cheaper than two map lookups per word.
 */
let NAME_KINDS = new Uint8Array(1 << 12);
let NAME_STAMPS = new Int32Array(1 << 12);
/** The last version given out (by any preprocessor, so two never share one). */
let namesVersions = 0;
const NAME_DEFINE = 1;
const NAME_MACRO = 2;

/**
 * nasm's standard macros that do not change while assembling (each also as __?NAME?__):
 * the version of nasm whose output xenolab matches, and the code size (32-bit only).
 */
const STANDARD_MACROS: Readonly<Record<string, string>> = {
  NASM_MAJOR: '2', NASM_MINOR: '16', NASM_SUBMINOR: '1', NASM_PATCHLEVEL: '0', NASM_VERSION_ID: '0x02100100', NASM_VER: '"2.16.01"', BITS: '32',
};

const MAX_INCLUDE_DEPTH = 64;
const NONE_ACTIVE: ReadonlySet<string> = new Set();
/** What %stacksize chooses: the frame pointer, the stack word, and where the first argument is. */
interface StackFrame {
  pointer: string;
  word: number;
  firstArg: number;
}

/** nasm's frames (large and small are 16-bit, with far and near returns as nasm counts them). */
const STACK_FRAMES: Readonly<Record<string, StackFrame>> = {
  flat: { pointer: 'ebp', word: 4, firstArg: 8 },
  flat64: { pointer: 'rbp', word: 8, firstArg: 16 },
  large: { pointer: 'bp', word: 2, firstArg: 4 },
  small: { pointer: 'bp', word: 2, firstArg: 6 },
};

/** The sizes %arg and %local know. */
const FRAME_SIZES: ReadonlyMap<string, number> = new Map([['byte', 1], ['word', 2], ['dword', 4], ['qword', 8], ['tword', 10]]);

/** nasm's `%use` packages, with what is different without them. */
const NASM_PACKAGES: ReadonlyMap<string, string> = new Map([
  ['smartalign', 'align pads code with one-byte NOPs here'],
  ['altreg', 'the r0-r15 register names are not defined'],
  ['fp', 'its floating-point macros are not defined'],
  ['ifunc', 'its integer functions (ilog2...) are not defined'],
  ['masm', 'MASM syntax is not accepted'],
]);
/** How deep defines may call defines. */
const MAX_DEFINE_DEPTH = 1000;
/** How often a `%+` that is still waiting for words may make a line be read again. */
const MAX_PASTE_ROUNDS = 64;
/** Tokens one define call on a line may make in all (nasm stops too: `interminable macro recursion`). */
const MAX_DEFINE_TOKENS = 1 << 20;

/** A preprocessor function (`%eval`, `%str`, ...): expandCall() calls it as it calls a define. */
interface PpFunction {
  fn: string;
}

/** The tests of %if<kind> (and of the %is<kind> functions). */
const IF_KINDS: ReadonlySet<string> = new Set(['', 'def', 'macro', 'idn', 'idni', 'id', 'num', 'str', 'empty', 'ctx', 'token', 'env', 'usable', 'using']);

/** The test of `%if<word>` (and `%is<word>(...)`): `num` is %ifnum's, `nnum` its inverse, `n` an expression's inverse. */
function ifKind(word: string): { kind: string; negated: boolean } | null {
  if (IF_KINDS.has(word)) return { kind: word, negated: false };
  return word.startsWith('n') && IF_KINDS.has(word.slice(1)) ? { kind: word.slice(1), negated: true } : null;
}

const isEnvironment = (t: Token) => t.kind === 'pp' && t.text.charCodeAt(1) === 33; /* %! */
const isPpFunction = (t: Token) => t.kind === 'pp' && (PP_FUNCTIONS.has(t.text.toLowerCase()) || isEnvironment(t));

/** A define call in progress on a line (see expandRound). */
interface ExpansionState {
  /** How many tokens at the bottom of the stack are still the line's, untouched. */
  raw: number;
  /** As many, right after the call took its own arguments. */
  afterCall: number;
  /** Tokens it may still make. */
  budget: number;
}

/** Line `i` of a source as token objects. */
function lineAt(src: LineSource, i: number): Token[] {
  return src.lines ? src.lines[i] : src.file!.stream.lineTokens(i);
}

/** Tokens and trees of recently read files, keyed by file id and path, checked by text. */
const FILE_CACHE = new Map<string, FileLines>();
const FILE_CACHE_LIMIT = 64;
const MAX_MACRO_DEPTH = 256;
/** Sources open (files, macro and %rep bodies) at which a %rep may not open another. */
const MAX_REP_DEPTH = 256;
/** Stops runaway %rep and recursive macros instead of hanging (callers may ask for less). */
export const MAX_OUTPUT_LINES = 2_000_000;


export class Preprocessor {
  readonly files: SourceFile[] = [];
  readonly diagnostics = new DiagnosticList();
  readonly trees = new Map<number, LineNode[]>();
  private readonly defines = new Map<string, Define>();
  /** `NAME equ EXPR` lines emitted so far (their expressions, evaluated when %if or %rep reads one). */
  private readonly equs = new Map<string, Expr>();
  private readonly caselessDefines = new Map<string, Define>();
  /** Multi-line macros by exact name (%macro), and by lower-cased name (%imacro, matched in any case). */
  private readonly macros = new Map<string, Macro[]>();
  private readonly caselessMacros = new Map<string, Macro[]>();
  private readonly conds: Cond[] = [];
  /** The output: expanded lines' trees and frames, `count` of them (written by index: see run()). */
  private nodes: LineNode[] = [];
  private stacks: (readonly Frame[])[] = [];
  private count = 0;
  private uniqueCounter = 0;
  private sources: LineSource[] = [];
  /** Finished body sources and macro calls, reused by the next ones (every macro call makes one of each). */
  private spareSources: LineSource[] = [];
  private spareCalls: MacroCall[] = [];
  /** %push/%pop contexts, innermost last: `%$name` is a label of the innermost, `%$$name` of the next. */
  private readonly contexts: { name: string; id: number }[] = [];
  /** The first token of the line being read (what __LINE__ and __FILE__ name). */
  private reading: Token | undefined;
  /** Each file's last %line (on line `at`): line at+k is line `line` + k*`step` of file `name`. */
  private readonly lineMaps = new Map<number, { at: number; line: number; step: number; name: string | undefined }>();
  /** The packages %use named (for %ifusing). */
  private readonly used = new Set<string>();
  /** %stacksize's frame, and where the next %arg and %local go in it. */
  private frame: StackFrame = STACK_FRAMES.flat;
  private argOffset = STACK_FRAMES.flat.firstArg;
  private localOffset = 0;
  /** Version of the define and macro tables, for NAME_STAMPS. */
  private names = ++namesVersions;

  constructor(
    private readonly provider: SourceProvider,
    predefined: Record<string, string> = {},
    /** Lines read (source, macro bodies, repetitions) before giving up. */
    private readonly maxLines = MAX_OUTPUT_LINES,
    /** See AssembleOptions.moveTreesInPlace. */
    private readonly moveTreesInPlace = false,
  ) {
    for (const name of ['__LINE__', '__?LINE?__']) this.defines.set(name, { params: null, body: [], caseless: false, dynamic: 'line' });
    for (const name of ['__FILE__', '__?FILE?__']) this.defines.set(name, { params: null, body: [], caseless: false, dynamic: 'file' });
    for (const [name, value] of Object.entries(STANDARD_MACROS)) {
      const body = tokenize(value, -1);
      this.defines.set(`__${name}__`, { params: null, body, caseless: false });
      this.defines.set(`__?${name}?__`, { params: null, body, caseless: false });
    }
    for (const [name, value] of Object.entries(predefined)) {
      this.defines.set(name, { params: null, body: tokenize(value, -1), caseless: false });
    }
    this.namesChanged();
  }

  run(path: string, text: string): PreprocessResult {
    ATOMS.trim();
    this.setSect('.text');
    const root = this.addFile(path, text);
    const source = this.fileSource(root, []);
    // Room for about as many lines again from includes and macros: pushing would copy
    // the arrays a dozen times on the way.
    this.nodes = new Array(2 * source.count + 64);
    this.stacks = new Array(this.nodes.length);
    this.sources.push(source);
    this.loop();
    for (const c of this.conds) this.error(c.span, 'unterminated %if: missing %endif', 'preproc');
    const { nodes, stacks } = this;
    nodes.length = stacks.length = this.count;
    let lines: ExpandedLine[] | null = null;
    return {
      files: this.files, nodes, stacks, diagnostics: this.diagnostics.finish(), trees: this.trees,
      get lines() {
        return (lines ??= nodes.map((node, i) => ({ node, stack: stacks[i] })));
      },
    };
  }

  private addFile(path: string, text: string): SourceFile {
    const file = makeSourceFile(this.files.length, path, text);
    this.files.push(file);
    return file;
  }

  /** A file's lines as tokens and as parse trees (cached across runs for unchanged files). */
  private fileSource(file: SourceFile, stack: readonly Frame[]): LineSource {
    const key = `${file.id}\0${file.path}`;
    let hit = FILE_CACHE.get(key);
    if (!hit || hit.text !== file.text) {
      // A new version of a file read before (an edit): the lines before the edit keep their
      // tokens and trees, the lines after it get their trees moved, the rest is parsed.
      const { stream, kept, tail, delta } = hit ? relex(hit.stream, file.text, file.id) : { stream: lex(file.text, file.id), kept: 0, tail: 0, delta: 0 };
      const parsed: LineNode[] = new Array(stream.lines);
      const plain = new Uint8Array(stream.lines);
      const sectionLine = new Uint8Array(stream.lines);
      const tailStart = stream.lines - tail;
      if (hit) {
        for (let l = 0; l < kept; l++) parsed[l] = hit.parsed[l];
        plain.set(hit.plain.subarray(0, kept));
        sectionLine.set(hit.sectionLine.subarray(0, kept));
        const from = hit.parsed.length - tail;
        // only the root file's: an include's trees may be another document's too
        const moved = this.moveTreesInPlace && file.id === 0 ? moveLine : movedLine;
        for (let l = 0; l < tail; l++) parsed[tailStart + l] = delta === 0 ? hit.parsed[from + l] : moved(hit.parsed[from + l], delta);
        plain.set(hit.plain.subarray(from), tailStart);
        sectionLine.set(hit.sectionLine.subarray(from), tailStart);
        FILE_CACHE.delete(key);
      }
      for (let l = kept; l < tailStart; l++) {
        const node = (parsed[l] = parseStreamLine(stream, l));
        let p = 1;
        for (let i = stream.lineStart[l], e = stream.lineEnd(l); i < e; i++) if (stream.kind[i] === K_PP) p = 0;
        plain[l] = p;
        sectionLine[l] = isSectionChoice(node.statement) ? 1 : 0;
      }
      hit = { text: file.text, stream, parsed, plain, sectionLine };
      if (FILE_CACHE.size >= FILE_CACHE_LIMIT) FILE_CACHE.delete(FILE_CACHE.keys().next().value!);
      FILE_CACHE.set(key, hit);
    }
    this.trees.set(file.id, hit.parsed);
    return {
      lines: null, file: hit, count: hit.parsed.length, plain: hit.plain, parsed: hit.parsed, index: 0, stack,
      call: undefined, repeat: undefined, condDepth: this.conds.length,
    };
  }

  private error(span: Span, message: string, code: string, severity: 'error' | 'warning' = 'error', stack: readonly Frame[] = this.currentStack()): void {
    if (this.diagnostics.room(severity)) this.diagnostics.items.push(locate({ severity, code, message, span: spanOf(span), related: [] }, stack));
  }

  private currentStack(): readonly Frame[] {
    return this.sources.length ? this.sources[this.sources.length - 1].stack : [];
  }

  private loop(): void {
    let guard = 0;
    while (this.sources.length) {
      const src = this.sources[this.sources.length - 1];
      if (src.index >= src.count) {
        if (src.repeat !== undefined && src.repeat > 1) {
          src.repeat--;
          src.index = 0;
          continue;
        }
        this.recycle(this.sources.pop()!);
        continue;
      }
      const l = src.index++;
      if (++guard > this.maxLines) {
        const t = lineAt(src, l).find((x) => !isTrivia(x));
        this.error(t ? t : { file: 0, start: 0, end: 0 }, `preprocessor output too large (over ${this.maxLines} lines): runaway %rep or recursive macro?`, 'preproc-limit');
        this.sources = [];
        return;
      }
      const plain = src.plain[l] === 1;
      if (plain && this.plainLine(src, l)) continue;
      this.processLine(src, lineAt(src, l), plain);
    }
  }

  /**
   * The fast path for a line of a file that no define or macro touches: its tree from
   * the cache. False when the line needs the general path.
   */
  private plainLine(src: LineSource, l: number): boolean {
    if (!this.active()) return true;
    if (src.file) {
      const s = src.file.stream;
      let idents = 0;
      const atoms = s.atomsValid();
      for (let i = s.lineStart[l], end = s.lineEnd(l); i < end; i++) {
        if (s.kind[i] === K_IDENT && this.expandable(s.text[i], idents++, atoms ? s.atom[i] : -1)) return false;
      }
    } else {
      let idents = 0;
      const line = src.lines![l];
      for (let i = 0; i < line.length; i++) {
        const t = line[i];
        if (t.kind === 'ident' && this.expandable(t.text, idents++, atomOf(t))) return false;
      }
    }
    const node = (src.parsed[l] ??= cachedParse(src.lines![l]));
    this.output(node, src.stack);
    // A file's lines say so in a flag, so the loop need not touch their trees.
    if (src.file ? src.file.sectionLine[l] : isSectionChoice(node.statement)) this.sectionChosen(node.statement!);
    return true;
  }

  private output(node: LineNode, stack: readonly Frame[]): void {
    this.nodes[this.count] = node;
    this.stacks[this.count] = stack;
    this.count++;
    const st = node.statement;
    if (st !== null && st.kind === 'equ' && node.label && node.label.name.charCodeAt(0) !== 46 /* . */) this.equs.set(node.label.name, st.value);
  }

  private active(): boolean {
    return this.conds.length === 0 || this.conds[this.conds.length - 1].active;
  }

  /** The general path for a line; `plain` when it has no `%` token (no parameter to substitute). */
  private processLine(src: LineSource, raw: Token[], plain: boolean): void {
    const sig = significant(raw);
    const head = sig[0];
    // where __LINE__ and __FILE__ are: a file's line, or a line of a macro or %rep body (as nasm 2.16 counts)
    this.reading = head;
    if (head && isDirectiveToken(head)) {
      // Directives see whitespace (`%define F(x)` differs from `%define F (x)`), not comments.
      let args = raw.slice(raw.indexOf(head) + 1).filter((t) => t.kind !== 'comment');
      if (!plain && this.active()) args = this.indirections(this.contextLocals(args));
      this.directive(src, head, args);
      return;
    }
    if (!this.active()) return;
    let tokens = src.call && !plain ? this.substituteParams(raw, src.call) : raw;
    if (!plain) tokens = this.contextLocals(tokens);
    tokens = this.expandDefines(tokens);
    const lineSig = tokens === raw ? sig : significant(tokens);
    if (this.tryInvokeMacro(src, tokens, lineSig)) return;
    // An unchanged line of a file was parsed already; a body line may expand as before.
    const l = src.index - 1;
    const node = tokens === raw && src.file ? src.file.parsed[l] : undefined;
    if (tokens !== raw && !src.call) {
      // a line whose instruction a single-line macro wrote (`DISABLE` for `%define DISABLE cli`):
      // made where the line is, as a macro call is (its statement is in the define's text)
      const parsed = cachedParse(tokens);
      const st = parsed.statement;
      const head = st ? firstAfterLabel(sig) : undefined;
      if (st && head && (st.file !== head.file || st.start !== head.start)) {
        const span = { file: head.file, start: head.start, end: reach(head, sig[sig.length - 1]) };
        this.emit(tokens, withFrame(src.stack, { kind: 'macro', span, name: head.text }), parsed);
        return;
      }
      this.emit(tokens, src.stack, parsed);
      return;
    }
    this.emit(tokens, src.stack, node);
  }

  private emit(tokens: Token[], stack: readonly Frame[], parsed?: LineNode): void {
    const node = parsed ?? cachedParse(tokens);
    this.output(node, stack);
    if (isSectionChoice(node.statement)) this.sectionChosen(node.statement!);
  }

  /**
   * Whether the `index`th identifier of a line is a define, or (first or second) a macro
   * name; `atom` is its id in ATOMS, or -1 when not known.
   */
  private expandable(text: string, index: number, atom: number): boolean {
    const kind = atom >= 0 ? this.nameKind(atom, text) : this.kindOfName(text);
    // A macro is called by the line's first word, or by its second after a label.
    return (kind & NAME_DEFINE) !== 0 || (index < 2 && (kind & NAME_MACRO) !== 0);
  }

  /** kindOfName() of the word with atom id `atom`, remembered in NAME_KINDS. */
  private nameKind(atom: number, text: string): number {
    if (atom >= NAME_STAMPS.length) growNameTables(atom);
    if (NAME_STAMPS[atom] === this.names) return NAME_KINDS[atom];
    const kind = this.kindOfName(text);
    NAME_KINDS[atom] = kind;
    NAME_STAMPS[atom] = this.names;
    return kind;
  }

  private kindOfName(text: string): number {
    return (this.lookupDefine(text) ? NAME_DEFINE : 0) | (this.macrosNamed(text) ? NAME_MACRO : 0);
  }

  /** Forgets what NAME_KINDS says (a define or macro came or went). */
  private namesChanged(): void {
    this.names = ++namesVersions;
  }

  /** The macros a word names: %macro ones by exact spelling, %imacro ones in any case. */
  private macrosNamed(text: string): Macro[] | undefined {
    return this.macros.get(text) ?? (this.caselessMacros.size ? this.caselessMacros.get(wordLower(text)) : undefined);
  }

  /** NASM's __SECT__: the last section chosen with the user-level directive. */
  private sectionChosen(st: Statement): void {
    if (st.kind === 'directive') this.setSect(st.args.map((t) => t.text).join(' '));
  }

  private setSect(section: string): void {
    const body = tokenize(`[section ${section}]`, -1);
    this.defines.set('__SECT__', { params: null, body, caseless: false });
    this.defines.set('__?SECT?__', { params: null, body, caseless: false });
    this.namesChanged();
  }

  // ---- directives ----
  private directive(src: LineSource, head: Token, args: Token[]): void {
    const name = head.text.toLowerCase();
    const span = head;
    if (this.conditional(name, args, span, src)) return;
    if (!this.active()) return;
    const argsSub = src.call ? this.substituteParams(args, src.call) : args;
    switch (name) {
      case '%define': case '%xdefine': case '%idefine': case '%ixdefine':
        return this.define(name, argsSub, span);
      case '%undef': {
        const t = firstToken(argsSub);
        if (t) {
          this.defines.delete(t.text);
          this.caselessDefines.delete(t.text.toLowerCase());
          this.namesChanged();
        }
        return;
      }
      case '%assign': case '%iassign':
        return this.assign(argsSub, span, name === '%iassign');
      case '%strlen':
        return this.strlen(argsSub, span);
      case '%strcat':
        return this.strcat(argsSub, span);
      case '%substr':
        return this.substr(argsSub, span);
      case '%defstr': case '%idefstr':
        return this.defstr(argsSub, span, name === '%idefstr');
      case '%deftok': case '%ideftok':
        return this.deftok(argsSub, span, name === '%ideftok');
      case '%macro': case '%imacro': case '%rmacro': case '%irmacro':
        return this.defineMacro(src, argsSub, span, name === '%imacro' || name === '%irmacro', name === '%rmacro' || name === '%irmacro');
      case '%endmacro': case '%endm':
        return this.error(span, '%endmacro without %macro', 'preproc');
      case '%unmacro': case '%unimacro':
        return this.unmacro(argsSub, span, name === '%unimacro');
      case '%push': {
        const t = firstToken(argsSub);
        this.contexts.push({ name: t ? t.text : '', id: ++this.uniqueCounter });
        return;
      }
      case '%pop': case '%repl': {
        const top = this.contexts[this.contexts.length - 1];
        const t = firstToken(argsSub);
        if (!top) return this.error(span, `${name}: the context stack is empty (no %push)`, 'preproc');
        if (name === '%repl') top.name = t ? t.text : '';
        else if (t && t.text !== top.name) this.error(span, `%pop ${t.text}: the innermost context is '${top.name}'`, 'preproc');
        else this.contexts.pop();
        return;
      }
      case '%rep':
        return this.rep(src, argsSub, span);
      case '%endrep':
        return this.error(span, '%endrep without %rep', 'preproc');
      case '%exitrep': case '%exitmacro':
        return this.exit(span, name === '%exitmacro');
      case '%include':
        return this.include(src, argsSub, span);
      case '%error': case '%fatal':
        this.error(span, `${textOf(this.expandDefines(argsSub))}`, 'user-error');
        if (name === '%fatal') this.sources = [];
        return;
      case '%warning':
        return this.error(span, textOf(this.expandDefines(argsSub)), 'user-warning', 'warning');
      case '%rotate':
        return this.rotate(src, argsSub, span);
      case '%use':
        return this.use(argsSub, span);
      case '%pathsearch': case '%ipathsearch':
        return this.pathsearch(argsSub, span, name === '%ipathsearch');
      case '%stacksize':
        return this.stacksize(argsSub, span);
      case '%arg': case '%local':
        return this.frameNames(name, argsSub, span);
      case '%line':
        return this.lineDirective(args, span);
      case '%pragma': case '%clear': case '%depend':
        return;
      default:
        this.error(span, `unknown preprocessor directive '${head.text}'`, 'preproc');
    }
  }

  /**
   * The macros named `name` that a parameter count such as `2` or `1-3` (`spec`, as
   * %unmacro and %ifmacro give it) selects: those taking that many, or with that range;
   * every one of the name when there is no count.
   */
  private macrosMatching(name: Token, spec: Token[], caselessOnly = false): Macro[] | undefined {
    const all = caselessOnly ? this.caselessMacros.get(name.text.toLowerCase()) : this.macrosNamed(name.text);
    if (!all || spec.length === 0) return all;
    const written = textOf(spec).replace(/\s+/g, '');
    const count = parameterCount(written);
    if (!count || count.text !== written) return [];
    const { min, max, range } = count;
    return all.filter((macro) => (range ? macro.min === min && macro.max === max : macro.min <= min && min <= macro.max));
  }

  /** `%unmacro name [count]`: forgets the macro of that name (and parameter count); %unimacro a case-insensitive one. */
  private unmacro(args: Token[], span: Span, caseless: boolean): void {
    const sig = significant(args);
    if (sig[0]?.kind !== 'ident') return this.error(span, `${caseless ? '%unimacro' : '%unmacro'} expects a macro name (and its parameter count)`, 'preproc');
    const gone = this.macrosMatching(sig[0], sig.slice(1), caseless) ?? [];
    for (const table of [this.macros, this.caselessMacros]) {
      for (const [key, list] of table) {
        const kept = list.filter((m) => !gone.includes(m));
        if (kept.length === list.length) continue;
        if (kept.length) table.set(key, kept);
        else table.delete(key);
      }
    }
    this.namesChanged();
  }

  /** `%stacksize flat|flat64|large|small`: the frame %arg and %local name places in (and where they start again). */
  private stacksize(args: Token[], span: Span): void {
    const word = firstToken(args);
    const frame = word && Object.hasOwn(STACK_FRAMES, word.text.toLowerCase()) ? STACK_FRAMES[word.text.toLowerCase()] : undefined;
    if (!frame) return this.error(word ?? span, `%stacksize expects flat, flat64, large or small`, 'preproc');
    this.frame = frame;
    this.argOffset = frame.firstArg;
    this.localOffset = 0;
  }

  /**
   * `%arg a:dword, b:word`: each name a define for its place above the frame pointer
   * (`(ebp+8)`); `%local` below it (`(ebp-4)`), adding their size to `%$localsize`.
   * Each place takes a whole number of stack words.
   */
  private frameNames(directive: string, args: Token[], span: Span): void {
    const local = directive === '%local';
    let total = 0;
    for (const item of splitArgs(significant(args))) {
      const [nameTok, colon, type] = item;
      const named = item.length === 3 && nameTok.kind === 'ident' && colon.kind === 'op' && colon.text === ':';
      const size = named ? FRAME_SIZES.get(type.text.toLowerCase()) : undefined;
      if (size === undefined) return this.error(item[0] ?? span, `${directive} expects name:size items (size byte, word, dword, qword or tword)`, 'preproc');
      const words = Math.ceil(size / this.frame.word) * this.frame.word;
      if (local) total += words;
      const at = local ? `-${(this.localOffset += words)}` : `+${this.argOffset}`;
      if (!local) this.argOffset += words;
      this.setDefine(nameTok, { params: null, body: tokenize(`(${this.frame.pointer}${at})`, -1), caseless: false });
    }
    if (!local) return;
    if (this.contexts.length === 0) return this.error(span, '%local adds to %$localsize, a name of the current context: %push one first', 'preproc');
    const size = this.contextLocals(tokenize(`%$localsize %$localsize + ${total}`, -1).filter((t) => t.kind !== 'newline'));
    this.assign(size.map((t) => ({ ...t, start: span.start, end: span.end, file: span.file })), span, false);
  }

  /** `%pathsearch NAME "file"`: NAME is the file's path as %include would find it, or the name as given. */
  private pathsearch(args: Token[], span: Span, caseless: boolean): void {
    const sig = significant(this.expandDefines(args));
    if (sig.length !== 2 || sig[0].kind !== 'ident' || sig[1].kind !== 'string') {
      return this.error(span, `%pathsearch expects a name and a quoted file name: %pathsearch NAME "file.bin"`, 'preproc');
    }
    const name = stringText(sig[1].text);
    const from = this.files[sig[1].file]?.path ?? '';
    const found = this.provider.readBinary ? this.provider.readBinary(name, from) : this.provider.read(name, from);
    this.defineString(sig[0], found && !found.path.startsWith(BUILTIN_PREFIX) ? found.path : name, caseless);
  }

  /** `%use package`: nasm's standard macro packages are named, not provided (their bytes would differ silently). */
  private use(args: Token[], span: Span): void {
    const name = unquoted(textOf(args));
    const what = NASM_PACKAGES.get(name.toLowerCase());
    this.used.add(name.toLowerCase());
    if (what === undefined) this.error(span, `unknown %use package '${name}'`, 'preproc');
    else this.error(span, `%use ${name}: xenolab does not provide nasm's ${name} package (${what})`, 'preproc', 'warning');
  }

  private conditional(name: string, args: Token[], span: Span, src: LineSource): boolean {
    const m = /^%(if|elif)(.*)$/.exec(name);
    const cond = m ? ifKind(m[2]) : null;
    if (m && cond) {
      const isElif = m[1] === 'elif';
      if (isElif) {
        const top = this.conds[this.conds.length - 1];
        if (!top || this.conds.length <= src.condDepth) {
          this.error(span, `${name} without %if`, 'preproc');
          return true;
        }
        if (top.elseSeen) this.error(span, `${name} after %else`, 'preproc');
        if (top.taken || !top.parent) {
          top.active = false;
          return true;
        }
        const ok = this.test(cond.kind, args, span, src) !== cond.negated;
        top.active = ok;
        top.taken = ok;
        return true;
      }
      const parent = this.active();
      const ok = parent && this.test(cond.kind, args, span, src) !== cond.negated;
      this.conds.push({ active: ok, taken: ok, parent, elseSeen: false, span });
      return true;
    }
    if (name === '%else') {
      const top = this.conds[this.conds.length - 1];
      if (!top || this.conds.length <= src.condDepth) {
        this.error(span, '%else without %if', 'preproc');
        return true;
      }
      if (top.elseSeen) this.error(span, 'more than one %else', 'preproc');
      top.elseSeen = true;
      top.active = top.parent && !top.taken;
      top.taken = true;
      return true;
    }
    if (name === '%endif') {
      if (this.conds.length <= src.condDepth) this.error(span, '%endif without %if', 'preproc');
      else this.conds.pop();
      return true;
    }
    return false;
  }

  private test(kind: string, rawArgs: Token[], span: Span, src: LineSource | null): boolean {
    const args = src?.call ? this.substituteParams(rawArgs, src.call) : rawArgs;
    switch (kind) {
      case '': {
        const v = this.constant(this.expandDefines(args), span);
        return v !== null && v !== 0n;
      }
      case 'def': {
        const t = firstToken(args);
        return t !== undefined && (this.defines.has(t.text) || this.caselessDefines.has(t.text.toLowerCase()));
      }
      case 'macro': {
        const sig = significant(args);
        const matches = sig[0] ? this.macrosMatching(sig[0], sig.slice(1)) : undefined;
        return matches !== undefined && matches.length > 0;
      }
      case 'idn': case 'idni': {
        // As nasm compares: token by token up to the first comma (strings by their
        // contents, blanks not counted), and a blank before the comma makes them differ.
        const tokens = significant(this.expandDefines(args));
        const comma = tokens.findIndex((t) => t.kind === 'op' && t.text === ',');
        if (comma < 0) {
          this.error(span, `%if${kind} expects two comma-separated token sequences`, 'preproc');
          return false;
        }
        const a = tokens.slice(0, comma);
        const b = tokens.slice(comma + 1);
        const spelling = (t: Token) => (t.kind === 'string' ? stringText(t.text) : kind === 'idni' ? t.text.toLowerCase() : t.text);
        const same = a.length === b.length && a.every((t, k) => t.kind === b[k].kind && spelling(t) === spelling(b[k]));
        return same && !this.blankBefore(tokens[comma]);
      }
      case 'id': case 'num': case 'str': {
        const sig = significant(this.expandDefines(args));
        const want = kind === 'id' ? 'ident' : kind === 'num' ? 'number' : 'string';
        return sig.length === 1 && sig[0].kind === want;
      }
      case 'empty':
        return significant(this.expandDefines(args)).length === 0;
      case 'ctx': {
        const top = this.contexts[this.contexts.length - 1];
        return top !== undefined && significant(args).some((t) => t.kind === 'ident' && t.text === top.name);
      }
      case 'token':
        return significant(this.expandDefines(args)).length === 1;
      case 'env': {
        // a name, or a string naming it (`%ifenv HOME`, `%ifenv 'HOME'`)
        const name = unquoted(firstToken(args)?.text ?? '');
        return name !== '' && this.provider.env?.(name) !== undefined;
      }
      case 'usable': case 'using': {
        const name = unquoted(firstToken(args)?.text ?? '').toLowerCase();
        // nasm's packages can be named (use() warns that xenolab does not provide them)
        return kind === 'usable' ? NASM_PACKAGES.has(name) : this.used.has(name);
      }
      default:
        this.error(span, `%if${kind} is not supported`, 'preproc');
        return false;
    }
  }

  /** Evaluates a preprocessor expression (numbers only). */
  private constant(tokens: Token[], span: Span): bigint | null {
    const sig = significant(tokens);
    if (sig.length === 0) {
      this.error(span, 'expected an expression', 'preproc');
      return null;
    }
    const node = parseLine([{ kind: 'ident', text: 'dd', start: sig[0].start, end: sig[0].start, file: sig[0].file }, ...sig]);
    const st = node.statement;
    if (node.errors.length || !st || st.kind !== 'data' || st.items.length !== 1 || st.items[0].kind !== 'expr') {
      this.error(node.errors[0]?.span ?? span, node.errors[0]?.message ?? 'expected one expression', 'preproc');
      return null;
    }
    try {
      return evaluate(st.items[0].expr, this.equConstants()).n;
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      this.error(e.span, e.unknown ? `${e.message} (preprocessor expressions can only use numbers, %define/%assign values and constants defined with equ before the line)` : e.message, 'preproc');
      return null;
    }
  }

  /**
   * The symbols a preprocessor expression may use besides numbers: constants defined with
   * `equ` on an earlier line, as nasm reads them (xen.inc's among them), when their value
   * is a plain number (not an address).
   */
  private equConstants(): EvalEnv {
    const equs = this.equs;
    const evaluating = new Set<string>();
    const env: EvalEnv = {
      symbol: (name) => {
        const expr = equs.get(name);
        if (!expr || evaluating.has(name)) return undefined;
        evaluating.add(name);
        try {
          const v = evaluate(expr, env);
          return v.sect === null ? v : undefined;
        } catch (e) {
          if (e instanceof EvalError) return undefined;
          throw e;
        } finally {
          evaluating.delete(name);
        }
      },
      here: () => undefined,
      sectionStart: () => undefined,
    };
    return env;
  }

  private define(kind: string, args: Token[], span: Span): void {
    const sig = significant(args);
    const nameTok = sig[0];
    if (!nameTok || (nameTok.kind !== 'ident' && nameTok.kind !== 'pp')) {
      this.error(span, `${kind} needs a macro name`, 'preproc');
      return;
    }
    let rest = args.slice(args.indexOf(nameTok) + 1);
    let params: string[] | null = null;
    // `%define F(x)` takes parameters; `%define F (x)` is a body starting with '('.
    if (rest[0] && rest[0].kind === 'op' && rest[0].text === '(' && adjacent(nameTok, rest[0])) {
      const close = rest.findIndex((t) => t.kind === 'op' && t.text === ')');
      if (close < 0) {
        this.error(rest[0], 'missing ) in macro parameter list', 'preproc');
        return;
      }
      params = rest.slice(1, close).filter((t) => t.kind === 'ident').map((t) => t.text);
      rest = rest.slice(close + 1);
    }
    let body = trimTrivia(rest);
    if (kind === '%xdefine' || kind === '%ixdefine') body = this.expandDefines(body);
    const caseless = kind === '%idefine' || kind === '%ixdefine';
    this.setDefine(nameTok, { params, body, caseless });
  }

  private assign(args: Token[], span: Span, caseless: boolean): void {
    const sig = significant(args);
    const nameTok = sig[0];
    if (!nameTok || nameTok.kind !== 'ident') {
      this.error(span, '%assign needs a name', 'preproc');
      return;
    }
    const v = this.constant(this.expandDefines(args.slice(args.indexOf(nameTok) + 1)), nameTok);
    if (v === null) return;
    const body = tokenize(v.toString(), nameTok.file).map((t) => ({ ...t, start: nameTok.start, end: nameTok.end }));
    this.setDefine(nameTok, { params: null, body, caseless });
  }

  private strlen(args: Token[], span: Span): void {
    const sig = significant(this.expandDefines(args));
    if (sig.length !== 2 || sig[0].kind !== 'ident' || sig[1].kind !== 'string') {
      this.error(span, "%strlen expects a name and a string: %strlen len 'text'", 'preproc');
      return;
    }
    const body: Token[] = [{ kind: 'number', text: String(stringText(sig[1].text).length), start: sig[0].start, end: sig[0].end, file: sig[0].file }];
    this.setDefine(sig[0], { params: null, body, caseless: false });
  }

  /** %strcat name, 'a', "b", ...: the strings' contents joined. */
  private strcat(args: Token[], span: Span): void {
    const sig = significant(this.expandDefines(args));
    const parts = splitArgs(sig, 1);
    if (sig[0]?.kind !== 'ident' || parts.length === 0 || parts.some((p) => p.length !== 1 || p[0].kind !== 'string')) {
      this.error(span, "%strcat expects a name and strings: %strcat name 'a', 'b'", 'preproc');
      return;
    }
    this.defineString(sig[0], parts.map((p) => stringText(p[0].text)).join(''), false);
  }

  /** %substr name 'text', start[, length]: characters from `start` (1-based); a length of -1 reaches the end, -2 one before it... */
  private substr(args: Token[], span: Span): void {
    const sig = significant(this.expandDefines(args));
    const usage = "%substr expects a name, a string and a start: %substr name 'text', 2, 3";
    if (sig[0]?.kind !== 'ident' || sig[1]?.kind !== 'string') return this.error(span, usage, 'preproc');
    const numbers = splitArgs(sig.slice(sig[2]?.kind === 'op' && sig[2].text === ',' ? 3 : 2));
    if (numbers.length < 1 || numbers.length > 2) return this.error(span, usage, 'preproc');
    const start = this.constant(trimTrivia(numbers[0]), span);
    const length = numbers[1] ? this.constant(trimTrivia(numbers[1]), span) : 1n;
    if (start === null || length === null) return;
    this.defineString(sig[0], substring(stringText(sig[1].text), start, length), false);
  }

  /** %defstr name tokens: the tokens' text as a string. */
  private defstr(args: Token[], span: Span, caseless: boolean): void {
    const sig = significant(args);
    if (sig[0]?.kind !== 'ident') return this.error(span, '%defstr expects a name and text: %defstr name text', 'preproc');
    const rest = args.slice(args.indexOf(sig[0]) + 1);
    this.defineString(sig[0], this.spacedText(significant(this.expandDefines(rest))), caseless);
  }

  /** Whether a blank stands right before token `t` in its source. */
  private blankBefore(t: Token): boolean {
    const c = t.file >= 0 ? this.files[t.file]?.text.charCodeAt(t.start - 1) : undefined;
    return c === 32 || c === 9;
  }

  /** Tokens as text, with a space wherever one stood before a token in its source (as nasm keeps its blanks). */
  private spacedText(tokens: readonly Token[]): string {
    let out = '';
    for (let i = 0; i < tokens.length; i++) out += (i > 0 && this.blankBefore(tokens[i]) ? ' ' : '') + tokens[i].text;
    return out;
  }

  /** %deftok name 'text': the string's contents read as tokens. */
  private deftok(args: Token[], span: Span, caseless: boolean): void {
    const sig = significant(this.expandDefines(args));
    if (sig.length !== 2 || sig[0].kind !== 'ident' || sig[1].kind !== 'string') {
      return this.error(span, "%deftok expects a name and a string: %deftok name 'mov eax, 1'", 'preproc');
    }
    const body = tokenize(stringText(sig[1].text), -1).filter((t) => t.kind !== 'newline');
    this.setDefine(sig[0], { params: null, body, caseless });
  }

  private defineString(name: Token, text: string, caseless: boolean): void {
    this.setDefine(name, { params: null, body: [{ kind: 'string', text: quoted(text), start: name.start, end: name.end, file: name.file }], caseless });
  }

  private setDefine(name: Token, def: Define): void {
    if (def.caseless) this.caselessDefines.set(name.text.toLowerCase(), def);
    else this.defines.set(name.text, def);
    this.namesChanged();
  }

  private defineMacro(src: LineSource, args: Token[], span: Span, caseless: boolean, recursive: boolean): void {
    const sig = significant(args);
    const body = collectBlock(src, MACRO_OPENERS, ['%endmacro', '%endm']);
    if (!body) {
      this.error(span, '%macro without %endmacro', 'preproc');
      return;
    }
    const nameTok = sig[0];
    if (!nameTok || nameTok.kind !== 'ident') {
      this.error(span, '%macro needs a name and a parameter count', 'preproc');
      return;
    }
    // The count is written without blanks (`1-2+`, `0-*.nolist`): what follows a blank is a default (`1-2 +5`).
    let specEnd = 2;
    while (specEnd < sig.length && sig[specEnd].start === sig[specEnd - 1].end && sig[specEnd].file === sig[specEnd - 1].file) specEnd++;
    const count = parameterCount(textOf(sig.slice(1, specEnd)));
    if (!count) {
      this.error(sig[1] ?? nameTok, 'expected a parameter count such as 2, 1-3, 0-* or 1+', 'preproc');
      return;
    }
    // Defaults follow the count spec: find where the spec tokens end.
    let k = 1;
    let consumed = '';
    while (k < sig.length && consumed.length < count.text.length) consumed += sig[k++].text;
    const defaults = splitArgs(sig.slice(k));
    const macro: Macro = {
      name: nameTok.text,
      min: count.min,
      max: count.max,
      greedy: count.greedy,
      defaults,
      body,
      plain: plainLines(body),
      takesLabel: body.some((line) => line.some((t) => t.kind === 'pp' && t.text === '%00')),
      parsed: [],
      span: spanOf(nameTok),
      recursive,
    };
    const table = caseless ? this.caselessMacros : this.macros;
    const key = caseless ? nameTok.text.toLowerCase() : nameTok.text;
    const list = (table.get(key) ?? []).filter((x) => x.min !== macro.min || x.max !== macro.max);
    list.push(macro);
    table.set(key, list);
    this.namesChanged();
  }

  private rep(src: LineSource, args: Token[], span: Span): void {
    if (this.sources.length >= MAX_REP_DEPTH) {
      // Fatal, as macro depth is: each level reads the rest of the body again, so thousands
      // of levels would take minutes before anything else went wrong.
      this.error(span, `%rep nested more than ${MAX_REP_DEPTH} deep: preprocessing stopped here`, 'preproc-limit');
      this.sources = [];
      return;
    }
    const body = collectBlock(src, ['%rep'], ['%endrep']);
    if (!body) {
      this.error(span, '%rep without %endrep', 'preproc');
      return;
    }
    const count = this.constant(this.expandDefines(args), span);
    if (count === null || count <= 0n) return;
    if (count > BigInt(MAX_OUTPUT_LINES)) {
      this.error(span, `%rep count ${count} is too large`, 'preproc-limit');
      return;
    }
    this.pushBody(body, plainLines(body), [], src.stack, src.call, Number(count));
  }

  /** Pushes a source of token lines (a macro or %rep body), in a spare object when there is one. */
  private pushBody(
    lines: Token[][], plain: Uint8Array, parsed: (LineNode | undefined)[], stack: readonly Frame[], call: MacroCall | undefined,
    repeat: number | undefined,
  ): void {
    const condDepth = this.conds.length;
    const s = this.spareSources.pop();
    if (!s) {
      this.sources.push({ lines, file: null, count: lines.length, plain, parsed, index: 0, stack, call, repeat, condDepth });
      return;
    }
    s.lines = lines;
    s.count = lines.length;
    s.plain = plain;
    s.parsed = parsed;
    s.index = 0;
    s.stack = stack;
    s.call = call;
    s.repeat = repeat;
    s.condDepth = condDepth;
    this.sources.push(s);
  }

  /** Keeps a finished body source, and its macro call when it was the macro's own body, for reuse. */
  private recycle(s: LineSource): void {
    if (!s.lines) return;
    const call = s.call;
    if (call && s.repeat === undefined && s.lines === call.macro.body) this.spareCalls.push(call);
    s.call = undefined;
    s.stack = NO_FRAMES;
    this.spareSources.push(s);
  }

  /**
   * %exitrep, %exitmacro: the innermost %rep body, or macro call, ends here, with the
   * sources inside it and the %ifs opened in it.
   */
  private exit(span: Span, macro: boolean): void {
    for (let i = this.sources.length - 1; i >= 0; i--) {
      const s = this.sources[i];
      if (macro ? s.call !== undefined && s.repeat === undefined : s.repeat !== undefined) {
        this.conds.length = s.condDepth;
        this.sources.length = i;
        return;
      }
    }
    this.error(span, macro ? '%exitmacro outside a macro' : '%exitrep outside %rep', 'preproc');
  }

  private rotate(src: LineSource, args: Token[], span: Span): void {
    const call = src.call;
    if (!call) {
      this.error(span, '%rotate outside a macro', 'preproc');
      return;
    }
    const n = this.constant(this.expandDefines(args), span);
    if (n === null || call.args.length === 0) return;
    const len = call.args.length;
    const k = ((Number(n % BigInt(len)) % len) + len) % len;
    call.args = [...call.args.slice(k), ...call.args.slice(0, k)];
  }

  private include(src: LineSource, args: Token[], span: Span): void {
    const sig = significant(this.expandDefines(args));
    const t = sig[0];
    if (!t || t.kind !== 'string' || sig.length !== 1) {
      this.error(span, '%include expects a quoted file name', 'preproc');
      return;
    }
    const name = t.text.slice(1, -1);
    if (depth(src.stack, 'include') >= MAX_INCLUDE_DEPTH) {
      this.error(t, `%include nested more than ${MAX_INCLUDE_DEPTH} deep (recursive include?)`, 'include');
      return;
    }
    const from = this.files[t.file]?.path ?? '';
    const found = this.provider.read(name, from);
    if (!found) {
      this.error(t, `unable to open include file '${name}'`, 'include');
      return;
    }
    const file = this.addFile(found.path, found.text);
    const stack = [...src.stack, { kind: 'include' as const, span: t, name: found.path }];
    this.sources.push(this.fileSource(file, stack));
  }

  // ---- single-line macros ----
  private lookupDefine(name: string): Define | undefined {
    return this.defines.get(name) ?? (this.caselessDefines.size ? this.caselessDefines.get(name.toLowerCase()) : undefined);
  }

  /**
   * `%$name` as a label of the innermost context (`%$$name` of the one around it...):
   * `..@N.name`, N the context's own number, as nasm names them.
   */
  private contextLocals(tokens: Token[]): Token[] {
    let out: Token[] | null = null;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.kind !== 'pp' || t.text.charCodeAt(1) !== 36 /* %$ */) continue;
      let depth = 1;
      while (t.text.charCodeAt(depth + 1) === 36) depth++;
      const context = this.contexts[this.contexts.length - depth];
      if (!context) this.error(t, `'${t.text}': ${this.contexts.length ? `only ${this.contexts.length} context(s) on the stack` : 'the context stack is empty (no %push)'}`, 'preproc');
      out ??= tokens.slice();
      // (without its context it stays as written: an undefined name, not a made-up one)
      out[i] = { ...t, kind: 'ident', text: context ? `..@${context.id}.${t.text.slice(depth + 1)}` : t.text };
    }
    return out ?? tokens;
  }

  /** __LINE__ or __FILE__ of the line being read, as a token at `at`. */
  private whereReading(what: 'line' | 'file', at: Token): Token[] {
    const r = this.reading;
    const file = r && r.file >= 0 ? this.files[r.file] : undefined;
    const place = { start: at.start, end: at.end, file: at.file };
    const line = file ? lineColumn(file, r!.start).line : 0;
    // as a %line directive before it in the file renumbered it
    const map = r ? this.lineMaps.get(r.file) : undefined;
    const mapped = map && line > map.at ? map : undefined;
    if (what === 'line') return [{ kind: 'number', text: String(mapped ? mapped.line + (line - mapped.at) * mapped.step : line), ...place }];
    return [{ kind: 'string', text: quoted(mapped?.name ?? (file ? file.path : '')), ...place }];
  }

  /** `%line N[+M] [file]`: the lines after it are lines N+M, N+2M... (of file), as nasm counts them (for __LINE__ and __FILE__). */
  private lineDirective(args: Token[], span: Span): void {
    const sig = significant(args);
    const n = sig[0]?.kind === 'number' ? parseNumber(sig[0].text) : null;
    const plus = sig[1]?.kind === 'op' && sig[1].text === '+';
    const m = plus ? (sig[2]?.kind === 'number' ? parseNumber(sig[2].text) : null) : 1n;
    if (n === null || m === null) return this.error(span, '%line expects a line number, an optional +step and a file name: %line 10+1 file.asm', 'preproc');
    const rest = sig.slice(plus ? 3 : 1);
    const name = rest.length ? (rest.length === 1 && rest[0].kind === 'string' ? stringText(rest[0].text) : this.spacedText(rest)) : undefined;
    const file = this.files[span.file];
    const previous = this.lineMaps.get(span.file);
    this.lineMaps.set(span.file, { at: file ? lineColumn(file, span.start).line : 0, line: Number(n), step: Number(m), name: name ?? previous?.name });
  }

  /** Whether `t` names a define that is not being expanded already. */
  private definedAt(t: Token, active: ReadonlySet<string>): boolean {
    return t.kind === 'ident' && (this.tokenKind(t) & NAME_DEFINE) !== 0 && !active.has(t.text);
  }

  /** kindOfName() of a token's text, by its atom when it has one. */
  private tokenKind(t: Token): number {
    const atom = atomOf(t);
    return atom >= 0 ? this.nameKind(atom, t.text) : this.kindOfName(t.text);
  }

  /** The macros an identifier token names (after a quick look at what its word is). */
  private macrosAt(t: Token): Macro[] | undefined {
    return t.kind === 'ident' && (this.tokenKind(t) & NAME_MACRO) !== 0 ? this.macrosNamed(t.text) : undefined;
  }

  /**
   * Expands %define macros and pastes `%+`, as nasm does: the line is read left to right;
   * a call takes its arguments as written, and its expansion (arguments put in) is read
   * right to left with the define itself switched off, so that a call inside it takes
   * arguments already expanded (`f(f(x))` in a body calls f twice) and a name at its end
   * can take them from after it (`%define pre f` then `pre(3)`). After a reading, `%+`
   * joins words; when it joined some (or waits for an expansion to make words around it),
   * the line is read again.
   */
  expandDefines(tokens: Token[], active: ReadonlySet<string> = NONE_ACTIVE): Token[] {
    for (let round = 0; ; round++) {
      const expanded = this.expandRound(tokens, active);
      if (!expanded.some(isPaste)) return expanded;
      const did: Pasting = { joined: 0, left: 0 };
      const last = round === MAX_PASTE_ROUNDS;
      const pasted = pasteTokens(expanded, !last, did);
      // Read again when pasting made words, or when a `%+` waits for an expansion to make them.
      if (did.joined === 0 && (did.left === 0 || expanded === tokens)) return did.left ? pasteTokens(pasted) : pasted;
      if (last) return pasted;
      tokens = pasted;
    }
  }

  /** One left-to-right reading of a line (see expandDefines); the same array when it names no define. */
  private expandRound(tokens: Token[], active: ReadonlySet<string>): Token[] {
    let first = 0;
    while (first < tokens.length && !this.definedAt(tokens[first], active) && !isIndirection(tokens[first]) && !isPpFunction(tokens[first])) first++;
    // Most lines name no define: nothing to copy.
    if (first === tokens.length) return tokens;
    const out: Token[] = tokens.slice(0, first);
    for (let i = first; i < tokens.length; i++) {
      const t = tokens[i];
      if (isIndirection(t)) {
        this.indirection(out, tokens, i, active);
        continue;
      }
      const def = this.calleeAt(t, active);
      if (!def) {
        out.push(t);
        continue;
      }
      // The rest of the line as a stack (its next token on top); its bottom `raw`
      // tokens are still as written when the call is done, and are read on from here.
      const right = tokens.slice(i + 1).reverse();
      const state: ExpansionState = { raw: right.length, afterCall: right.length, budget: MAX_DEFINE_TOKENS };
      if (!this.expandCall(t, def, right, active, state, 0)) {
        out.push(t);
        continue;
      }
      for (let k = right.length - 1; k >= state.raw; k--) out.push(right[k]);
      if (state.raw < state.afterCall) {
        // The expansion took tokens from after the call: nasm reads no further (it looks for
        // the token after the call to go on from, and that one is gone).
        for (let k = state.raw - 1; k >= 0; k--) out.push(right[k]);
        break;
      }
      i = tokens.length - state.raw - 1;
    }
    return out;
  }

  /**
   * The call of define `def` at `t`: takes its arguments from the top of `right` (the
   * tokens after it, next on top) and pushes its expansion, expanded, onto it. False, and
   * nothing taken, when it is not a call (parameters, and no `(...)` after the name).
   */
  private expandCall(t: Token, def: Define | PpFunction, right: Token[], active: ReadonlySet<string>, state: ExpansionState, depth: number): boolean {
    const define = 'fn' in def ? null : def;
    const fn = define === null ? (def as PpFunction).fn : null;
    let body = define === null ? [] : define.dynamic ? this.whereReading(define.dynamic, t) : define.body;
    if (define === null || define.params) {
      const top = right.length - 1;
      if (top < 0 || right[top].kind !== 'op' || right[top].text !== '(') return false;
      const close = matchingParenBelow(right, top);
      if (close < 0) return false;
      const inside = right.slice(close + 1, top).reverse();
      right.length = close;
      if (close < state.raw) state.raw = close;
      if (depth === 0) state.afterCall = close;
      if (define === null) body = this.ppFunction(fn!, inside, t, active);
      else {
        const args = splitArgs(inside);
        const params = define.params!;
        body = body.flatMap((b) => {
          const k = b.kind === 'ident' ? params.indexOf(b.text) : -1;
          return k >= 0 ? (args[k] ?? []) : [b];
        });
      }
    }
    state.budget -= body.length + 1;
    if (depth >= MAX_DEFINE_DEPTH || state.budget < 0) {
      if (state.budget > -Infinity) this.error(t, `'${t.text}': its expansion does not end (defines nested too deep, or too many tokens)`, 'preproc');
      state.budget = -Infinity;
      return false;
    }
    const inner = define === null ? active : new Set(active).add(t.text);
    // Re-locate the expansion at the use site so errors point at the user's text.
    let placed = body.map((b) => (b.file === -1 ? { ...b, start: t.start, end: t.end, file: t.file } : b));
    if (placed.some(isIndirection)) {
      const resolved: Token[] = [];
      for (let k = 0; k < placed.length; k++) {
        if (isIndirection(placed[k])) this.indirection(resolved, placed, k, inner);
        else resolved.push(placed[k]);
      }
      placed = resolved;
    }
    for (let k = placed.length - 1; k >= 0; k--) {
      const b = placed[k];
      const d = this.calleeAt(b, inner);
      if (!d || !this.expandCall(b, d, right, inner, state, depth + 1)) right.push(b);
    }
    return true;
  }

  /** The define (not switched off by `active`) or preprocessor function token `t` names, if any. */
  private calleeAt(t: Token, active: ReadonlySet<string>): Define | PpFunction | undefined {
    if (t.kind === 'pp') return isEnvironment(t) ? this.environment(t) : PP_FUNCTIONS.get(t.text.toLowerCase());
    return this.definedAt(t, active) ? this.lookupDefine(t.text) : undefined;
  }

  /** `%!NAME` (or `%!'NAME'`): the environment variable's value, read as tokens (nothing, with a warning, when it is not set). */
  private environment(t: Token): Define {
    const name = unquoted(t.text.slice(2));
    const value = this.provider.env?.(name);
    if (value === undefined) this.error(t, `environment variable '${name}' is not set`, 'preproc', 'warning');
    return { params: null, body: value === undefined ? [] : tokenize(value, -1).filter((x) => x.kind !== 'newline'), caseless: false };
  }

  /**
   * nasm 2.16's preprocessor functions: what `%name(...)` at `t` stands for, given the
   * tokens between its parentheses. The %is functions test them as %if would (unexpanded
   * for %isdef, as %ifdef); the others take them expanded.
   */
  private ppFunction(name: string, inside: Token[], t: Token, active: ReadonlySet<string>): Token[] {
    const at = { start: t.start, end: t.end, file: t.file };
    const num = (v: bigint): Token[] => tokenize(v.toString(), -1).filter((x) => x.kind !== 'newline').map((x) => ({ ...x, ...at }));
    const str = (text: string): Token[] => [{ kind: 'string', text: quoted(text), ...at }];
    const is = name.startsWith('%is') ? ifKind(name.slice(3)) : null;
    if (is) return num(this.test(is.kind, inside, t, null) !== is.negated ? 1n : 0n);
    const expanded = this.expandDefines(inside, active);
    const args = splitArgs(significant(expanded));
    const value = (k: number): bigint | null => (args[k] ? this.constant(args[k], t) : null);
    const usage = (how: string): Token[] => {
      this.error(t, `${t.text} expects ${how}`, 'preproc');
      return [];
    };
    const strings = (): string[] | null => (args.every((a) => a.length === 1 && a[0].kind === 'string') ? args.map((a) => stringText(a[0].text)) : null);
    switch (name) {
      case '%eval': {
        const out: Token[] = [];
        for (let k = 0; k < args.length; k++) {
          const v = value(k);
          if (v === null) return [];
          if (k) out.push({ kind: 'op', text: ',', ...at });
          out.push(...num(v));
        }
        return out;
      }
      case '%abs': {
        const v = value(0);
        return v === null ? [] : num(v < 0n ? -v : v);
      }
      case '%num': {
        const v = value(0);
        const digits = args.length > 1 ? value(1) : -1n;
        const base = args.length > 2 ? value(2) : 10n;
        if (v === null || digits === null || base === null) return [];
        if (base < 2n || base > 36n) return usage('a base from 2 to 36');
        let text = BigInt.asUintN(64, v).toString(Number(base));
        if (digits >= 0n) text = text.padStart(Number(digits), '0').slice(-Math.max(1, Number(digits)));
        return str(text);
      }
      case '%str':
        return str(this.spacedText(significant(expanded)));
      case '%strlen': {
        const texts = strings();
        return texts && texts.length === 1 ? num(BigInt(texts[0].length)) : usage('a string');
      }
      case '%strcat': {
        const texts = strings();
        return texts ? str(texts.join('')) : usage('strings');
      }
      case '%substr': {
        const text = args[0]?.length === 1 && args[0][0].kind === 'string' ? stringText(args[0][0].text) : null;
        const start = value(1);
        const length = args.length > 2 ? value(2) : -1n;
        if (text === null || start === null || length === null) return usage("a string, a start and a length: %substr('text', 2, 3)");
        return str(substring(text, start, length));
      }
      case '%count':
        return num(BigInt(Math.max(1, args.length)));
      case '%sel': {
        const n = value(0);
        if (n === null) return [];
        if (n >= 1n && n < BigInt(args.length)) return args[Number(n)];
        // a warning in nasm too: the choice is nothing
        this.error(t, `%sel(${n}) is not one of the ${args.length - 1} choices`, 'preproc', 'warning');
        return [];
      }
      case '%cond': {
        const c = value(0);
        return c === null ? [] : ((c !== 0n ? args[1] : args[2]) ?? []);
      }
      case '%tok': {
        const texts = strings();
        return texts && texts.length === 1 ? tokenize(texts[0], -1).filter((x) => x.kind !== 'newline') : usage('a string');
      }
    }
    return [];
  }

  /**
   * `%[...]`: what is inside, with its defines expanded, in place of it (appended to
   * `out`), pasted to a word written right before or after it (`P%[N]` is `P2`).
   */
  private indirection(out: Token[], tokens: Token[], i: number, active: ReadonlySet<string>): void {
    const t = tokens[i];
    if (!t.text.endsWith(']')) this.error(t, "unterminated '%[': missing ']'", 'preproc');
    // Inside, tokens are where they are written (so that `item%[n]` pastes there too).
    const inner = indirectionTokens(t).map((x) => ({ ...x, start: t.start + 2 + x.start, end: t.start + 2 + x.end }));
    let expanded = this.expandDefines(inner, active);
    // What pasting made (`item%[n]` is `item1`) is a name to expand in turn.
    if (inner.some((x) => x.kind === 'pp' && (isIndirection(x) || x.text === '%+'))) expanded = this.expandDefines(expanded, active);
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    const paste = (a: Token | undefined, b: Token | undefined) => a !== undefined && b !== undefined && gluable(a) && gluable(b);
    if (prev && adjacent(prev, t) && paste(out[out.length - 1], expanded[0])) out.push(PASTE);
    out.push(...expanded);
    if (next && adjacent(t, next) && paste(expanded[expanded.length - 1], next)) out.push(PASTE);
  }

  /**
   * `%[...]` in a macro body with the call's parameters put in its text, each where it is
   * written: against a neighbour (`x%1`), it is pasted to it when the text is read again.
   */
  private indirectionWithParams(t: Token, call: MacroCall): Token {
    const inner = indirectionTokens(t);
    let text = '';
    for (let k = 0; k < inner.length; k++) {
      if (k > 0 && inner[k - 1].end !== inner[k].start) text += ' ';
      text += this.substituteParams([inner[k]], call).map((x) => x.text).join(' ');
    }
    return { ...t, text: `%[${text}]` };
  }

  /** A directive's arguments with their `%[...]` expanded (its defines are not: `%define` keeps them). */
  private indirections(args: Token[]): Token[] {
    if (!args.some(isIndirection)) return args;
    const out: Token[] = [];
    for (let i = 0; i < args.length; i++) {
      if (isIndirection(args[i])) this.indirection(out, args, i, NONE_ACTIVE);
      else out.push(args[i]);
    }
    return pasteTokens(out);
  }

  // ---- multi-line macros ----
  private tryInvokeMacro(src: LineSource, tokens: Token[], sig: Token[]): boolean {
    if (sig.length === 0) return false;
    // An optional label precedes the macro name: `lbl: MACRO args` or `lbl MACRO args`.
    let k = 0;
    if (sig.length > 1 && sig[1].kind === 'op' && sig[1].text === ':') k = 2;
    let nameTok = sig[k];
    if (!nameTok || nameTok.kind !== 'ident') return false;
    let candidates = this.macrosAt(nameTok);
    if (!candidates && k === 0 && sig[1] && (candidates = this.macrosAt(sig[1]))) {
      k = 1;
      nameTok = sig[1];
    }
    if (!candidates) return false;
    // As in nasm, a macro not declared with %rmacro is not expanded within its own
    // expansion: there the line means what it would without the macro (`%imacro ret 0`
    // can end in `ret`).
    if (this.someInProgress(candidates)) {
      candidates = candidates.filter((m) => m.recursive || !this.inProgress(m));
      if (candidates.length === 0) return false;
    }
    const argStart = tokens.indexOf(nameTok) + 1;
    let args = splitArgs(tokens, argStart, false);
    const macro = macroFor(candidates, args.length);
    const callSpan: Span = { file: nameTok.file, start: nameTok.start, end: reach(nameTok, sig[sig.length - 1]) };
    if (!macro) {
      const want = candidates.map((m) => (m.max === m.min ? `${m.min}` : m.max === Infinity ? `${m.min} or more` : `${m.min}-${m.max}`)).join(' or ');
      this.error(nameTok, `macro '${nameTok.text}' expects ${want} parameter(s), got ${args.length}`, 'macro-args');
      return true;
    }
    if (macro.greedy && args.length > macro.max) {
      // The last parameter takes the rest of the line, commas included.
      const argTokens = tokens.slice(argStart);
      const rest = argTokens.slice(indexAfterCommas(argTokens, macro.max - 1));
      args = [...args.slice(0, macro.max - 1), trimTrivia(rest)];
    }
    for (let i = args.length; i < macro.max && i - macro.min < macro.defaults.length; i++) {
      args.push(macro.defaults[i - macro.min] ?? []);
    }
    if (depth(src.stack, 'macro') >= MAX_MACRO_DEPTH) {
      // Fatal, as in nasm: a macro that recurses more than once per level would otherwise
      // hit this limit at every leaf of an exponential tree of expansions.
      this.error(nameTok, `macro '${macro.name}' nested more than ${MAX_MACRO_DEPTH} deep (infinite recursion?): preprocessing stopped here`, 'macro-depth');
      this.sources = [];
      return true;
    }
    if (k > 0 && !macro.takesLabel) {
      // Emit the label on its own line before the expansion (unless the body places it
      // with %00); `lbl MACRO` as `lbl:` (it is not the label alone on a line that nasm warns about).
      const labelToks = tokens.slice(0, tokens.indexOf(sig[k - 1]) + 1);
      if (k === 1) labelToks.push({ kind: 'op', text: ':', file: sig[0].file, start: sig[0].end, end: sig[0].end });
      this.emit(labelToks, src.stack);
    }
    const stack = withFrame(src.stack, { kind: 'macro', span: callSpan, name: macro.name });
    const call = this.spareCalls.pop() ?? { macro, args, unique: 0, name: nameTok, label: null };
    call.macro = macro;
    call.args = args;
    call.unique = ++this.uniqueCounter;
    call.name = nameTok;
    call.label = k > 0 ? sig[0] : null;
    this.pushBody(macro.body, macro.plain, macro.parsed, stack, call, undefined);
    return true;
  }

  /** Whether some macro of `candidates` (not %rmacro) is in progress (a loop: every macro call asks). */
  private someInProgress(candidates: readonly Macro[]): boolean {
    for (let i = 0; i < candidates.length; i++) if (!candidates[i].recursive && this.inProgress(candidates[i])) return true;
    return false;
  }

  /** Whether a line of the macro's expansion is being read (at any depth). */
  private inProgress(macro: Macro): boolean {
    for (let i = this.sources.length - 1; i >= 0; i--) if (this.sources[i].call?.macro === macro) return true;
    return false;
  }

  /** `%+n`: parameter n, which must be a condition code (`e`, `nc`, ...); `%-n`: its inverse (`ne`, `c`). */
  private conditionParam(t: Token, call: MacroCall): Token[] {
    const arg = call.args[Number(t.text.slice(2)) - 1];
    const cc = arg && arg.length === 1 ? CONDITION_CODES.get(arg[0].text.toLowerCase()) : undefined;
    if (cc === undefined) {
      this.error(t, `'${t.text}' needs a condition code (such as e, nz, ae) as parameter ${t.text.slice(2)}`, 'preproc');
      return [];
    }
    return t.text.charCodeAt(1) === 43 ? [arg[0]] : [{ ...arg[0], kind: 'ident', text: CONDITIONS[cc ^ 1].name }];
  }

  /**
   * Replaces %1, %0, %{n}, %%label inside a macro body line. A parameter written
   * against other text (`__HYPERVISOR_%1`) is pasted onto it, as NASM does.
   */
  private substituteParams(tokens: Token[], call: MacroCall): Token[] {
    // At most this many tokens (pasting only makes fewer): the array is made at its size.
    let most = tokens.length;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      const p = t.kind === 'pp' ? paramNumber(t.text) : -1;
      if (p > 0) most += (call.args[p - 1]?.length ?? 0) - 1;
      else if (t.kind === 'pp' && t.text.charCodeAt(1) === 123 /* %{ */) most += (paramRange(t, call)?.length ?? 1) - 1;
    }
    const out = new Array<Token>(most);
    let n = 0;
    let glueNext = false;
    for (let i = 0; i < tokens.length; i++) {
      const t = isIndirection(tokens[i]) ? this.indirectionWithParams(tokens[i], call) : tokens[i];
      let repl: Token[] | Token = t;
      if (t.kind === 'pp') {
        const p = t.text === '%00' ? -1 : paramNumber(t.text);
        if (t.text === '%00') repl = call.label ? [{ ...call.label, start: t.start, end: t.end, file: t.file }] : [];
        else if (t.text === '%?' || t.text === '%??') repl = [{ ...t, kind: 'ident', text: t.text === '%?' ? call.name.text : call.macro.name, atom: undefined }];
        else if (p === 0) repl = [{ ...t, kind: 'number', text: String(call.args.length) }];
        else if (p > 0) repl = call.args[p - 1] ?? [];
        else if (t.text.length > 2 && t.text.charCodeAt(1) === 37 /* %%label */) repl = [{ ...t, kind: 'ident', text: `..@${call.unique}.${t.text.slice(2)}` }];
        else if (t.text.length > 2 && (t.text.charCodeAt(1) === 45 || t.text.charCodeAt(1) === 43) /* %-n, %+n */) repl = this.conditionParam(t, call);
        else if (t.text.charCodeAt(1) === 123 /* %{ */) repl = paramRange(t, call) ?? t;
      }
      const prev = n > 0 ? out[n - 1] : undefined;
      const prevTok = i > 0 ? tokens[i - 1] : undefined;
      if (!Array.isArray(repl)) {
        // The common case: a token that is not a parameter.
        if (glueNext && prev && prevTok && adjacent(prevTok, t) && gluable(prev) && gluable(t)) {
          out[n - 1] = glued(prev, t);
        } else out[n++] = t;
        glueNext = false;
        continue;
      }
      // A parameter written against the text before it is pasted onto it.
      if (repl.length && prev && prevTok !== undefined && adjacent(prevTok, t) && gluable(prev) && gluable(repl[0])) {
        out[n - 1] = glued(prev, repl[0]);
        for (let k = 1; k < repl.length; k++) out[n++] = repl[k];
      } else for (let k = 0; k < repl.length; k++) out[n++] = repl[k];
      glueNext = i + 1 < tokens.length && adjacent(t, tokens[i + 1]);
    }
    if (n !== most) out.length = n;
    return out;
  }
}

const NO_FRAMES: readonly Frame[] = [];

/** `stack` with `frame` on top, in an array of its exact size. */
/** The first token of a line after its label (`name:` or a name the next token is no operator after), or undefined. */
function firstAfterLabel(sig: readonly Token[]): Token | undefined {
  if (sig.length > 1 && sig[1].kind === 'op' && sig[1].text === ':') return sig[2];
  return sig[0];
}

function withFrame(stack: readonly Frame[], frame: Frame): Frame[] {
  const out = new Array<Frame>(stack.length + 1);
  for (let i = 0; i < stack.length; i++) out[i] = stack[i];
  out[stack.length] = frame;
  return out;
}

/** Moves each diagnostic to the user's file, keeping where it really happened as related info. */
export function locate(d: Diagnostic, stack: readonly Frame[]): Diagnostic {
  if (stack.length === 0) return d;
  const rootFile = stack[0].span.file;
  if (d.span.file === rootFile && !stack.some((f) => f.kind === 'macro')) return d;
  // The problem is in an include or a macro body: report it at the root file's line
  // that led there, with where it really is and every step between as related info.
  const related = [{ span: d.span, message: d.message }, ...d.related];
  for (let i = stack.length - 1; i >= 1; i--) {
    const f = stack[i];
    related.push({ span: f.span, message: f.kind === 'macro' ? `in expansion of macro '${f.name}'` : `included from here (${f.name})` });
  }
  const primary = stack[0].span;
  const macroFrame = stack.find((f) => f.kind === 'macro');
  const message = macroFrame ? `${d.message} (in macro '${macroFrame.name}')` : d.message;
  return { ...d, span: primary, message, related: dedupe(related, primary) };
}

function dedupe(related: Diagnostic['related'], primary: Span): Diagnostic['related'] {
  const seen = new Set<string>([`${primary.file}:${primary.start}`]);
  return related.filter((r) => {
    const key = `${r.span.file}:${r.span.start}`;
    if (seen.has(key) && r.message.startsWith('in expansion')) return false;
    seen.add(key);
    return true;
  });
}

/** Condition code numbers by name and alias (`%-n` inverts one). */
const CONDITION_CODES = new Map(CONDITIONS.flatMap((c) => [c.name, ...c.aliases].map((n): [string, number] => [n, c.code])));

/** Directives that open a multi-line macro definition (the `%i` ones: matched in any case). */
export const MACRO_OPENERS: readonly string[] = ['%macro', '%imacro', '%rmacro', '%irmacro'];

/**
 * The preprocessor's directives and functions, each with what it does in a line (the
 * language server's completion after `%`). A test holds the directives to the
 * preprocessor: none of them is an unknown directive.
 */
export const PREPROCESSOR_DIRECTIVES: readonly (readonly [string, string])[] = [
  ['%define', 'a single-line macro: %define NAME(params) text'], ['%xdefine', 'a single-line macro whose text is expanded now'],
  ['%idefine', 'a case-insensitive %define'], ['%ixdefine', 'a case-insensitive %xdefine'], ['%undef', 'forgets a single-line macro'],
  ['%assign', 'a single-line macro with the value of an expression'], ['%iassign', 'a case-insensitive %assign'],
  ['%defstr', 'a single-line macro: its text as a string'], ['%idefstr', 'a case-insensitive %defstr'],
  ['%deftok', 'a single-line macro: a string read as tokens'], ['%ideftok', 'a case-insensitive %deftok'],
  ['%strlen', 'a single-line macro: the length of a string'], ['%strcat', 'a single-line macro: strings joined'],
  ['%substr', 'a single-line macro: part of a string (start, length)'],
  ['%macro', 'a multi-line macro: %macro NAME COUNT ... %endmacro'], ['%imacro', 'a case-insensitive %macro'],
  ['%rmacro', 'a %macro that may call itself'], ['%irmacro', 'a case-insensitive %rmacro'], ['%endmacro', 'ends a %macro'],
  ['%unmacro', 'forgets a multi-line macro (of a parameter count)'], ['%unimacro', 'forgets a case-insensitive macro'],
  ['%exitmacro', 'leaves the macro being expanded'], ['%rotate', 'rotates the macro parameters: %rotate 1'],
  ['%rep', 'repeats the lines up to %endrep: %rep COUNT'], ['%endrep', 'ends a %rep'], ['%exitrep', 'leaves the %rep'],
  ['%if', 'assembles what follows when an expression is not zero'], ['%ifdef', 'when a single-line macro is defined'],
  ['%ifndef', 'when a single-line macro is not defined'], ['%ifmacro', 'when a multi-line macro is defined'],
  ['%ifidn', 'when two texts are the same: %ifidn a, b'], ['%ifidni', 'when two texts are the same in any case'],
  ['%ifid', 'when the text is an identifier'], ['%ifnum', 'when the text is a number'], ['%ifstr', 'when the text is a string'],
  ['%iftoken', 'when the text is one token'], ['%ifempty', 'when the text is empty'], ['%ifctx', 'when the context on top is named so'],
  ['%ifenv', 'when an environment variable is set'], ['%ifusable', 'when a %use package exists'], ['%ifusing', 'when a %use package is in use'],
  ['%elif', 'else, when an expression is not zero'], ['%elifdef', 'else, when a single-line macro is defined'], ['%else', 'else'],
  ['%endif', 'ends an %if'], ['%include', 'reads a file here: %include "file.inc"'], ['%pathsearch', 'a single-line macro: the path %include would find'],
  ['%push', 'opens a context (for %$ names)'], ['%pop', 'closes the context'], ['%repl', 'renames the context on top'],
  ['%stacksize', 'the frame %arg and %local use: flat, flat64, large, small'], ['%arg', 'names for arguments above the frame pointer: %arg a:dword'],
  ['%local', 'names for locals below the frame pointer, adding to %$localsize'], ['%error', 'reports an error'], ['%fatal', 'reports an error and stops'],
  ['%warning', 'reports a warning'], ['%line', 'renumbers the following lines for __LINE__: %line N+1 file'], ['%use', 'a standard macro package (not provided)'],
  ['%pragma', 'a hint for nasm (ignored)'], ['%depend', 'names a dependency (ignored)'], ['%clear', 'forgets macros (ignored)'],
];

/** The preprocessor functions (`%eval(...)`), with what each gives. */
export const PREPROCESSOR_FUNCTIONS: readonly (readonly [string, string])[] = [
  ['%eval', 'the value of expressions'], ['%abs', 'the absolute value'], ['%num', 'a number as a string: %num(n, digits, base)'],
  ['%str', 'the text as a string'], ['%strlen', 'the length of a string'], ['%strcat', 'strings joined'], ['%substr', 'part of a string: %substr(s, start, length)'],
  ['%count', 'how many arguments'], ['%sel', 'the nth of the arguments after n'], ['%cond', 'the second argument if the first is not zero, else the third'],
  ['%tok', 'a string read as tokens'], ['%isdef', '1 when a single-line macro is defined, else 0 (any %if kind: %isnum, %isidn...)'],
];

/** The functions by name: those listed, and a %is and %isn one per %if kind. */
const PP_FUNCTIONS: ReadonlyMap<string, PpFunction> = new Map(
  [
    ...PREPROCESSOR_FUNCTIONS.map(([f]) => f).filter((f) => !f.startsWith('%is')),
    ...[...IF_KINDS].flatMap((k) => [`%is${k}`, `%isn${k}`]),
  ].map((n) => [n, { fn: n }]),
);

/** Directives whose first word is a single-line macro they define. */
const DEFINERS: ReadonlySet<string> = new Set([
  '%define', '%xdefine', '%idefine', '%ixdefine', '%assign', '%iassign', '%defstr', '%idefstr', '%deftok', '%ideftok',
  '%strlen', '%strcat', '%substr', '%pathsearch', '%ipathsearch',
]);

/**
 * The names a preprocessor directive line defines, as written (for editors: outlines,
 * navigation, "is this name defined"): a macro's, a define's, each %arg and %local name.
 */
export function namesDefinedBy(directive: string, args: readonly Token[]): { names: Token[]; macro: boolean } {
  const name = directive.toLowerCase();
  const sig = significant(args as Token[]);
  const macro = MACRO_OPENERS.includes(name);
  if (macro || DEFINERS.has(name)) return { names: sig[0]?.kind === 'ident' ? [sig[0]] : [], macro };
  if (name !== '%arg' && name !== '%local') return { names: [], macro: false };
  return { names: splitArgs(sig).map((item) => item[0]).filter((t) => t?.kind === 'ident'), macro: false };
}

/** A string token's characters (its escapes read for a backquoted one). */
function stringText(text: string): string {
  return text[0] === '`' ? String.fromCharCode(...stringBytes(text)) : text.slice(1, -1);
}

/** Text as a string token, quoted as nasm quotes it: '...' unless it holds a ', then "...", else `...` with escapes. */
function quoted(text: string): string {
  if (!text.includes("'")) return `'${text}'`;
  if (!text.includes('"')) return `"${text}"`;
  return '`' + text.replace(/[\\`]/g, (c) => '\\' + c).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) + '`';
}

/**
 * Takes the lines of `src` up to the directive in `close` that matches (blocks of the same
 * kind may nest); null when the block never closes.
 */
function collectBlock(src: LineSource, open: readonly string[], close: readonly string[]): Token[][] | null {
  const body: Token[][] = [];
  let depth = 1;
  while (src.index < src.count) {
    const line = lineAt(src, src.index++);
    const h = line.find((t) => !isTrivia(t));
    const w = h && h.kind === 'pp' ? h.text.toLowerCase() : '';
    if (open.includes(w)) depth++;
    if (close.includes(w) && --depth === 0) return body;
    body.push(line);
  }
  return null;
}

/**
 * `%{a:b}`: the parameters a to b, with commas between them (backwards when b < a; a
 * negative number counts from the last, -1 being it), as nasm gives them; null for any
 * other token.
 */
function paramRange(t: Token, call: MacroCall): Token[] | null {
  const m = /^%\{(-?\d+):(-?\d+)\}$/.exec(t.text);
  if (!m) return null;
  const n = call.args.length;
  const at = (k: number) => (k < 0 ? n + 1 + k : k);
  const a = at(Number(m[1]));
  const b = at(Number(m[2]));
  const out: Token[] = [];
  for (let k = a; b >= a ? k <= b : k >= b; k += b >= a ? 1 : -1) {
    if (out.length) out.push({ kind: 'op', text: ',', start: t.start, end: t.end, file: t.file });
    out.push(...(call.args[k - 1] ?? []));
  }
  return out;
}

/** The number of a macro parameter token (`%1`, `%{2}`, `%0`), or -1 for anything else. */
function paramNumber(text: string): number {
  let i = 1;
  const braced = text.charCodeAt(1) === 123; // %{n}
  if (braced) i++;
  if (i >= text.length) return -1;
  let n = 0;
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  const first = i;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (i === first || (braced ? text.charCodeAt(i) !== 125 || i + 1 !== text.length : i !== text.length)) return -1;
  return negative ? -1 : n;
}

/** A token's atom id when it still names its text, else -1. */
function atomOf(t: Token): number {
  const a = t.atom;
  return a !== undefined && a >= 0 && ATOMS.strings[a] === t.text ? a : -1;
}

/** Makes NAME_KINDS and NAME_STAMPS hold atom id `atom`. */
function growNameTables(atom: number): void {
  let n = NAME_STAMPS.length;
  while (n <= atom) n *= 2;
  const kinds = new Uint8Array(n);
  const stamps = new Int32Array(n);
  kinds.set(NAME_KINDS);
  stamps.set(NAME_STAMPS);
  NAME_KINDS = kinds;
  NAME_STAMPS = stamps;
}

/**
 * The trees of lines that are not a file's own (macro and %rep bodies as expanded, lines
 * a define changed), kept within a run and from one run to the next: an expansion to the
 * same tokens (same texts from the same places, as a parameter passed on from another
 * macro body gives, or the same call as last time) gets the same tree, so what the
 * assembler and the analyses keep per tree (an instruction's kept bytes, its place in the
 * program) serves again. Found by a hash of its tokens' places
 * and kinds, and taken only when the tokens say the same (sameTokens): a tree is what
 * parseLine makes of its tokens' kinds, texts and places. Two generations bound it: when
 * the newer fills, the older goes.
 */
let parsedNow = new Map<number, Expansion>();
let parsedBefore = new Map<number, Expansion>();
const PARSED_GENERATION = 1 << 14;

function cachedParse(tokens: Token[]): LineNode {
  let h = 0x811c9dc5;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    h = Math.imul(h ^ t.start, 0x01000193);
    h = Math.imul(h ^ (t.end - t.start), 0x01000193);
    h = Math.imul(h ^ (t.file << 5 | KIND_CODE[t.kind]), 0x01000193);
  }
  // keys of 30 bits are small integers to the map (larger ones are boxed numbers)
  h &= 0x3fffffff;
  const now = parsedNow.get(h);
  if (now !== undefined && sameTokens(now.tokens, tokens)) return now.node;
  const before = parsedBefore.get(h);
  const node = before !== undefined && sameTokens(before.tokens, tokens) ? before.node : parseLine(tokens);
  if (parsedNow.size >= PARSED_GENERATION) {
    parsedBefore = parsedNow;
    parsedNow = new Map();
  }
  parsedNow.set(h, { tokens, node });
  return node;
}

/** Token lists with the same texts from the same places. */
function sameTokens(a: readonly Token[], b: readonly Token[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && (x.kind !== y.kind || x.text !== y.text || x.start !== y.start || x.end !== y.end || x.file !== y.file)) return false;
  }
  return true;
}

/** Per line: 1 when no token is a `%` word (parameter, directive, local label, paste). */
function plainLines(lines: Token[][]): Uint8Array {
  const plain = new Uint8Array(lines.length);
  for (let l = 0; l < lines.length; l++) plain[l] = lines[l].some((t) => t.kind === 'pp') ? 0 : 1;
  return plain;
}

/** A user-level `section`/`segment` directive (not the primitive `[section ...]`). */
function isSectionChoice(st: Statement | null): boolean {
  return st !== null && st.kind === 'directive' && st.start === st.name.start && (st.name.text === 'section' || st.name.text === 'segment');
}

/** How many frames of a kind the stack holds. */
function depth(stack: readonly Frame[], kind: Frame['kind']): number {
  let n = 0;
  for (let i = 0; i < stack.length; i++) if (stack[i].kind === kind) n++;
  return n;
}

function firstToken(tokens: Token[]): Token | undefined {
  return tokens.find((t) => !isTrivia(t));
}

function adjacent(a: Token, b: Token): boolean {
  return a.file === b.file && a.end === b.start;
}

function gluable(t: Token): boolean {
  return t.kind === 'ident' || t.kind === 'number';
}

/**
 * `next` pasted onto `prev`: one identifier (or number) spanning both. Its spelling is
 * interned, so every expansion that pastes the same name shares one string and atom.
 */
function glued(prev: Token, next: Token): Token {
  const atom = ATOMS.internPair(prev.text, next.text);
  return {
    kind: prev.kind === 'number' ? 'number' : 'ident', text: ATOMS.strings[atom], start: prev.start,
    end: prev.file === next.file ? Math.max(prev.end, next.end) : prev.end, file: prev.file, atom,
  };
}

/** The tokens without leading and trailing trivia (the same array when there is none). */
function trimTrivia(tokens: Token[]): Token[] {
  let a = 0;
  let b = tokens.length;
  while (a < b && isTrivia(tokens[a])) a++;
  while (b > a && isTrivia(tokens[b - 1])) b--;
  return a === 0 && b === tokens.length ? tokens : tokens.slice(a, b);
}

/** The macro of `candidates` (same name, different parameter counts) that takes `count` arguments. */
function macroFor(candidates: readonly Macro[], count: number): Macro | undefined {
  for (const m of candidates) if (count >= m.min && (count <= m.max || m.greedy)) return m;
  for (const m of candidates) if (m.greedy && count >= m.min) return m;
  return undefined;
}

/**
 * Splits a token list (from index `from`) at top-level commas (braces group, and
 * parentheses unless `parens` is false: a multi-line macro's call splits inside them, as
 * nasm does); no arguments when there is nothing but trivia.
 */
export function splitArgs(tokens: Token[], from = 0, parens = true): Token[][] {
  // Commas first, so the list is made at its size (every macro call splits its line).
  let commas = 0;
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'op') continue;
    depth += nesting(t, parens);
    if (depth === 0 && t.text === ',') commas++;
  }
  const last = commas === 0 ? trimmedSlice(tokens, from, tokens.length) : null;
  if (last !== null && last.length === 0) return [];
  const out = new Array<Token[]>(commas + 1);
  let n = 0;
  let start = from;
  depth = 0;
  for (let i = from; i < tokens.length && n < commas; i++) {
    const t = tokens[i];
    if (t.kind !== 'op') continue;
    depth += nesting(t, parens);
    if (depth === 0 && t.text === ',') {
      out[n++] = unbrace(trimmedSlice(tokens, start, i));
      start = i + 1;
    }
  }
  out[n] = unbrace(last ?? trimmedSlice(tokens, start, tokens.length));
  return out;
}

/** Tokens `from`..`to` without leading and trailing trivia, in an array of their own. */
function trimmedSlice(tokens: Token[], from: number, to: number): Token[] {
  while (from < to && isTrivia(tokens[from])) from++;
  while (to > from && isTrivia(tokens[to - 1])) to--;
  return tokens.slice(from, to);
}

function unbrace(tokens: Token[]): Token[] {
  if (tokens.length >= 2 && tokens[0].text === '{' && tokens[tokens.length - 1].text === '}') return tokens.slice(1, -1);
  return tokens;
}

/** How an operator token changes the grouping depth of arguments: braces group, and parentheses when `parens`. */
function nesting(t: Token, parens: boolean): number {
  const c = t.text;
  return c === '{' || (parens && c === '(') ? 1 : c === '}' || (parens && c === ')') ? -1 : 0;
}

/** Where a macro call's tokens go on after `commas` of its commas (split as splitArgs with parens false). */
function indexAfterCommas(tokens: Token[], commas: number): number {
  let seen = 0;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'op') continue;
    depth += nesting(t, false);
    if (depth === 0 && t.text === ',' && ++seen === commas) return i + 1;
  }
  return commas === 0 ? 0 : tokens.length;
}

/** The `)` closing the `(` at `open` of a stack of tokens (the tokens after it are below it), or -1. */
function matchingParenBelow(stack: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i >= 0; i--) {
    if (stack[i].kind !== 'op') continue;
    if (stack[i].text === '(') depth++;
    if (stack[i].text === ')' && --depth === 0) return i;
  }
  return -1;
}


const isIndirection = (t: Token) => t.kind === 'pp' && t.text.charCodeAt(1) === 91; /* %[ */

/** What a `%[...]` token holds, as tokens at offsets in its text (after the `%[`). */
function indirectionTokens(t: Token): Token[] {
  return tokenize(t.text.slice(2, t.text.endsWith(']') ? -1 : undefined), t.file).filter((x) => x.kind !== 'newline');
}

/** The `%+` that indirection() puts between words to paste. */
const PASTE: Token = { kind: 'pp', text: '%+', start: 0, end: 0, file: -1 };

/** What a pasteTokens() did: how many pairs it joined, and how many `%+` it left. */
interface Pasting {
  joined: number;
  left: number;
}

const isPaste = (t: Token) => t.kind === 'pp' && t.text === '%+';

/**
 * Joins the words (identifiers, numbers) around each `%+` into one. Between tokens that
 * are not both words the `%+` is dropped (they stay two tokens: nasm's `(3) %+ 1` is
 * `(3)1`), or kept with `keep` (for a next round of expansion, which can make them words:
 * `cat(cat(a,b),c)`). One with nothing after it is dropped (a call's last argument was empty).
 */
function pasteTokens(tokens: Token[], keep = false, did?: Pasting): Token[] {
  if (!tokens.some(isPaste)) return tokens;
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!isPaste(t) || out.length === 0) {
      if (!isPaste(t)) out.push(t);
      continue;
    }
    const next = tokens[i + 1];
    if (next === undefined) {
      // nothing to join
    } else if (gluable(out[out.length - 1]) && gluable(next)) {
      out.push(glued(out.pop()!, next));
      i++;
      if (did) did.joined++;
    } else if (keep && !isPaste(next)) {
      out.push(t);
      if (did) did.left++;
    }
  }
  return out;
}

/**
 * A macro's parameter count at the start of `spec` (blanks removed): `2`, `1-3`, `0-*`,
 * `1+`; `text` is what it took, `range` whether it gave a maximum.
 */
function parameterCount(spec: string): { min: number; max: number; greedy: boolean; range: boolean; text: string } | null {
  const m = /^(\d+)(?:-(\d+|\*))?(\+)?(?:\.nolist)?/i.exec(spec);
  if (!m) return null;
  const min = Number(m[1]);
  return { min, max: m[2] === '*' ? Infinity : m[2] !== undefined ? Number(m[2]) : min, greedy: m[3] === '+', range: m[2] !== undefined, text: m[0] };
}

/** %substr's part of `text`: from `start` (1-based), `length` characters; a length of -1 reaches the end, -2 one before it... */
function substring(text: string, start: bigint, length: bigint): string {
  const from = Number(start) - 1;
  const to = length < 0n ? text.length + Number(length) + 1 : from + Number(length);
  return from < 0 ? '' : text.slice(from, Math.max(from, to));
}

/** A name as written, or the contents of the string it was written as (`'HOME'`, `"smartalign"`). */
function unquoted(text: string): string {
  return /^['"`]/.test(text) ? stringText(text) : text;
}

function textOf(tokens: Token[]): string {
  return tokens.map((t) => t.text).join('').trim();
}

/** Convenience: preprocess a root file. */
export function preprocess(path: string, text: string, provider: SourceProvider, predefined?: Record<string, string>, maxLines?: number, moveTreesInPlace?: boolean): PreprocessResult {
  return new Preprocessor(provider, predefined, maxLines, moveTreesInPlace).run(path, text);
}

