// The assembler: runs the preprocessor, then passes over the expanded lines until every
// label address and instruction size is stable. Pass 1 lays out with NASM's assumptions
// for values not known yet; each later pass also emits bytes, symbols, the line table
// and the listing, and the first that changes nothing is the result. Sections are laid
// out like `nasm -f bin`: .text first at `org`, other progbits sections in order of
// appearance, nobits sections last.

import { addressShape, type AddressShape } from './address.js';
import { encodeInstruction, type EncodeRequest, type EncodeSuccess, type ResolvedOperand, type ShapePlan } from './encoder.js';
import { evaluate, evaluatePartial, EvalError, low32, makeValue, numberValue, unknownSymbol, type EvalEnv, type Value } from './expr.js';
import { locate, preprocess, type ExpandedLine, type Frame } from './preprocessor.js';
import { DiagnosticList, type Diagnostic, type Severity } from './diagnostics.js';
import type { Image, ImageNote, ImageSection, ImageSymbol, LineRow } from './image.js';
import { decodeNotes } from './elf/notes.js';
import { ByteWriter, isDecodeError } from './elf/bytes.js';
import { LineTable } from './lineTable.js';
import type { SourceFile, SourceProvider } from './source.js';
import { spanOf, type DataItem, type Expr, type InstructionMemo, type LineNode, type OperandNode, type Span, type Statement } from './syntax.js';
import type { Token } from './lexer.js';
import { FORMS, unsupportedInstruction, type Register } from '../../isa/src/index.js';
import { encodeFloat, floatFormatOfUnit } from './float.js';

export interface AssembleOptions {
  /** Path of the root file (used in messages and the line table). */
  path: string;
  text: string;
  /** Reads %include and incbin files; none by default. */
  provider?: SourceProvider;
  /** Single-line macros defined before the source (like nasm -D). */
  predefined?: Record<string, string>;
  /**
   * Source lines the preprocessor may read, repetitions and macro bodies included, before
   * it stops with an error (2,000,000 by default). An editor asks for less: it assembles
   * on every change.
   */
  maxLines?: number;
  /**
   * The caller reads no result of an earlier assembly of this root file after this one has
   * begun (an editor that drops its last analysis of a document before making the next):
   * the root file's trees of the lines after an edit are then moved where they are, not
   * copied, and that earlier result's trees say the new places. Off by default: then every
   * result stays as it was.
   */
  moveTreesInPlace?: boolean;
}

export interface ListingRow {
  /** The expanded line. */
  line: ExpandedLine;
  address: number;
  bytes: Uint8Array;
  /** Size of reserved space (resb, times with nobits), shown as ?? in the listing. */
  reserved: number;
}

/**
 * One listing row as `eachRow` shows it: its bytes are `data[from..to)` (no copy, no
 * view). The same object is shown for every row: copy what you keep.
 */
export interface RowView {
  node: LineNode;
  stack: readonly Frame[];
  address: number;
  data: Uint8Array;
  from: number;
  to: number;
  reserved: number;
}

export interface AssembleResult {
  /** True when there are no errors. */
  ok: boolean;
  image: Image;
  diagnostics: Diagnostic[];
  files: SourceFile[];
  /** The listing (nasm -l), built when first read. */
  readonly listing: ListingRow[];
  /**
   * The listing's rows in order without making them (the language server reads every
   * row on every change, and keeps few of them).
   */
  eachRow(visit: (row: Readonly<RowView>) => void): void;
  /** Each file's own lines as parsed before expansion (for the language server). */
  trees: Map<number, LineNode[]>;
  /** Names defined in lines macros made, in order (for the language server). */
  macroLabels: readonly MacroLabel[];
  /** How many passes it took. */
  passes: number;
}

interface LineStarts {
  offsets: Float64Array;
  /** The section's order number (-1 inside struc/absolute). */
  sections: Int32Array;
}

/**
 * Listing rows whose bytes are still in the section buffers, as a flat list of numbers
 * (ROW_FIELDS per row: line index, address, section order or -1, from, to, reserved);
 * rows become objects only when the listing is asked for.
 */
const ROW_FIELDS = 6;

interface SectionState {
  name: string;
  kind: 'progbits' | 'nobits';
  align: number;
  write: boolean;
  exec: boolean;
  /** First-appearance order (after .text). */
  order: number;
  offset: number;
  vaddr: number;
  /** Contents, filled in the final pass only. */
  bytes: ByteWriter;
  /** Where the section was first named, for messages about the whole section. */
  firstSpan: Span | null;
}

interface SymbolState {
  /** The full name (a local label's qualified). */
  name: string;
  /** The label's address as computed in pass `cachePass`. */
  cache: Value | undefined;
  cachePass: number | undefined;
  /** For labels: the address is section start + offset, recomputed on every lookup so a
   *  label defined later in the file never carries a stale section address. */
  offset: number;
  /** The value of a symbol that is not a label (a label's is its section's start + offset: see labelValue). */
  value: Value | null;
  pass: number;
  section: string | null;
  isLabel: boolean;
  /** An `equ` of numbers and other constants only: the same value in every pass. */
  constant: boolean;
  /** Its index in the line notes' symbols (-1 until a line notes it). */
  index: number;
}

/** Instruction sizes of one pass by statement key (keys are given out in order). */
class Sizes {
  private data: Int32Array;
  /** One past the last key set. */
  count = 0;

  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }

  /** The size recorded for `key`, or -1. */
  get(key: number): number {
    return key < this.count ? this.data[key] : -1;
  }

  set(key: number, size: number): void {
    if (key >= this.data.length) {
      const grown = new Int32Array(Math.max(key + 1, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data[key] = size;
    if (key >= this.count) this.count = key + 1;
  }
}

/**
 * What a pass learned about each expanded line that later passes use without visiting its
 * tree again (every pass meets the same lines in the same order). The assembly keeps one
 * for all its passes.
 */
class LineNotes {
  /**
   * For a line that is an instruction with kept bytes and nothing else (no label, error or
   * warning): how many bytes (0 for other lines), kept in `bytes` from `at`.
   */
  readonly length: Int32Array;
  readonly at: Int32Array;
  bytes = new Uint8Array(1 << 12);
  private used = 0;
  /** Where a kept instruction's mnemonic is (file and offset), for the line table. */
  readonly file: Int32Array;
  readonly start: Int32Array;
  /**
   * The symbol a line's label defines (its index in `symbols`, plus one), found under the
   * scope in `scopes` (a local label's symbol depends on it, and an `equ` known only from a
   * later pass opens a scope then). Numbers, not references: no array of objects per line.
   */
  readonly labels: Int32Array;
  readonly scopes: Int32Array;
  /** Noted symbols by index, and scopes (non-local label names) by id; '' is 0. */
  private readonly symbols: SymbolState[] = [];
  private readonly scopeIds = new Map<string, number>([['', 0]]);

  constructor(lines: number) {
    this.length = new Int32Array(lines);
    this.at = new Int32Array(lines);
    this.file = new Int32Array(lines);
    this.start = new Int32Array(lines);
    this.labels = new Int32Array(lines);
    this.scopes = new Int32Array(lines);
  }

  /** The id of a scope name. */
  scopeId(name: string): number {
    let id = this.scopeIds.get(name);
    if (id === undefined) this.scopeIds.set(name, (id = this.scopeIds.size));
    return id;
  }

  /** The symbol noted for line `i`'s label, when it was found under the same scope. */
  label(i: number, scope: number): SymbolState | undefined {
    const k = this.labels[i];
    return k !== 0 && this.scopes[i] === scope ? this.symbols[k - 1] : undefined;
  }

  noteLabel(i: number, scope: number, s: SymbolState): void {
    if (s.index < 0) {
      s.index = this.symbols.length;
      this.symbols.push(s);
    }
    this.labels[i] = s.index + 1;
    this.scopes[i] = scope;
  }

  /** Notes line `i`, whose instruction `st` is all of it, as kept: `count` bytes of `buf` from `from`. */
  keep(i: number, st: InstructionStatement, buf: ArrayLike<number>, from: number, count: number): void {
    if (this.used + count > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    for (let k = 0; k < count; k++) this.bytes[this.used + k] = buf[from + k];
    this.at[i] = this.used;
    this.used += count;
    this.length[i] = count;
    this.file[i] = st.mnemonic.file;
    this.start[i] = st.mnemonic.start;
  }

  /** Notes line `i` when its statement, just run, kept its bytes in its memo. */
  noteKept(i: number, node: LineNode): void {
    const st = node.statement;
    if (this.length[i] || node.label || !st || st.kind !== 'instruction') return;
    const memo = st.memo;
    if (!memo || memo.fixed === undefined || memo.fixed < 0 || !memo.pool || (memo.warnings && memo.warnings.length)) return;
    this.keep(i, st, memo.pool, memo.at!, memo.fixed);
  }
}

type InstructionStatement = Extract<Statement, { kind: 'instruction' }>;

const MAX_PASSES = 40;
/** No section may grow past this: a guest image is a few MiB, and a typo must not exhaust memory. */
export const MAX_SECTION_BYTES = 64 * 1024 * 1024;
/** After this many passes instruction sizes may only grow, which guarantees an end. */
const GROW_ONLY_AFTER = 12;
const NOP = 0x90;
const ZERO: Value = makeValue(0n, null);

const NO_PROVIDER: SourceProvider = { read: () => null };
/** Numbers each assembly, so memos that depend on its `equ` constants are not reused by another. */
let assemblies = 0;

function defaultAttributes(name: string): Pick<SectionState, 'kind' | 'write' | 'exec'> {
  if (name === '.text' || name.startsWith('.text.')) return { kind: 'progbits', write: false, exec: true };
  if (name === '.bss' || name.startsWith('.bss.')) return { kind: 'nobits', write: true, exec: false };
  if (name === '.rodata' || name.startsWith('.rodata.') || name.startsWith('.note')) return { kind: 'progbits', write: false, exec: false };
  return { kind: 'progbits', write: true, exec: false };
}

class Pass implements EvalEnv {
  readonly sections = new Map<string, SectionState>();
  section!: SectionState;
  /** Non-null inside struc/absolute: the absolute location counter. */
  absolute: { offset: number; struc: string | null; saved: SectionState; /** Where the block began (a struc's size counts from it). */ start: number } | null = null;
  istruc: { name: string; base: number } | null = null;
  /** The last non-local label: the scope of `.local` names, and its id in the notes. Set them with setScope(). */
  lastGlobal = '';
  scopeId = 0;
  /** Local names qualified under lastGlobal (from `scopes`, made when first needed). */
  private locals: Map<string, string> | null = null;

  setScope(name: string): void {
    if (name === this.lastGlobal) return;
    this.locals = null;
    this.lastGlobal = name;
    this.scopeId = this.notes.scopeId(name);
  }
  org: number | null = null;
  /** align/alignb raise the section's alignment (until `sectalign off`). */
  alignRaisesSection = true;
  readonly diagnostics = new DiagnosticList();
  readonly lines: LineTable;
  /** Listing rows (ROW_FIELDS numbers each), at most one per line. */
  readonly listing: Float64Array;
  listed = 0;
  readonly globals = new Map<string, Span>();
  /** Instruction sizes of this pass by statement key, to detect convergence. */
  readonly sizes: Sizes;
  sizeIndex = 0;
  changed = false;
  stack: readonly Frame[] = [];
  /** The line being assembled (its report places a problem met in a %define's text at it). */
  line: LineNode | null = null;

  /** Where each expanded line started in this pass (section name and offset). */
  readonly lineStarts: LineStarts;
  lineIndex = 0;

  constructor(
    readonly number: number,
    readonly final: boolean,
    readonly symbols: Map<string, SymbolState>,
    /**
     * Qualified local names by scope, kept by the assembly: every pass then looks symbols
     * up with the same string objects, built and hashed once.
     */
    private readonly scopes: Map<string, Map<string, string>>,
    readonly layout: Map<string, number>,
    readonly previousSizes: Sizes,
    readonly notes: LineNotes,
    readonly growOnly: boolean,
    readonly files: SourceFile[],
    readonly provider: SourceProvider,
    lineCount: number,
    /** The previous pass's line starts, to estimate forward references. */
    readonly previousLines: LineStarts | null,
    /** Which assembly this pass belongs to. */
    readonly assembly: number,
  ) {
    this.lineStarts = { offsets: new Float64Array(lineCount), sections: new Int32Array(lineCount) };
    this.sizes = new Sizes(previousSizes.count || lineCount);
    this.lines = new LineTable(files, final ? lineCount : 0);
    this.listing = new Float64Array(final ? lineCount * ROW_FIELDS : 0);
    this.switchSection('.text', null);
  }

  // ---- EvalEnv ----
  symbol(name: string): Value | undefined {
    const s = this.symbols.get(name.charCodeAt(0) === 46 ? this.qualify(name) : name);
    if (!s) return name.startsWith('section.') ? this.namedSectionStart(name) : undefined;
    if (!s.isLabel || s.section === null) return s.value!;
    if (s.pass !== this.number && s.section === this.section.name && !this.absolute) {
      // A label further down, known from the previous pass: assume everything between
      // here and there keeps its size, so it moved by as much as this line did.
      const shift = this.shift();
      if (shift !== 0) return numberValue(this.section.vaddr + s.offset + shift, s.section);
    }
    return this.labelValue(s);
  }

  /** A label's address in this pass: its section's start + its offset (made once per pass). */
  labelValue(s: SymbolState): Value {
    if (s.cachePass !== this.number) {
      const address = this.sectionBase(s.section!) + s.offset;
      // Values never change: the last pass's serves again when the label did not move.
      const last = s.cache;
      if (last === undefined || last.lo !== (address | 0) || last.sect !== s.section || Number(last.n) !== address) s.cache = numberValue(address, s.section);
      s.cachePass = this.number;
    }
    return s.cache!;
  }

  /** A symbol's value: a label's address, or the value it was defined with. */
  valueOf(s: SymbolState): Value {
    return s.isLabel && s.section !== null ? this.labelValue(s) : s.value!;
  }

  /** A symbol's value as the image holds it: its low 32 bits, unsigned. */
  address(s: SymbolState): number {
    if (s.isLabel && s.section !== null) return (this.sectionBase(s.section) + s.offset) >>> 0;
    return Number(BigInt.asUintN(32, s.value!.n));
  }

  /** nasm's `section.NAME.start` (`section..data.start`): the address of section NAME (once laid out), as a label of it. */
  private namedSectionStart(symbol: string): Value | undefined {
    const m = /^section\.(.+)\.start$/.exec(symbol);
    if (!m || !this.layout.has(m[1])) return undefined;
    return numberValue(this.sectionBase(m[1]), m[1]);
  }

  /** Where a section starts in this pass (as laid out after the previous one). */
  private sectionBase(name: string): number {
    return this.sections.get(name)?.vaddr ?? this.layout.get(name) ?? 0;
  }
  /** How far the current line's start moved since the previous pass (0 when unknown). */
  shift(): number {
    const prev = this.previousLines;
    const i = this.lineIndex;
    // Only an estimate: a section numbered differently in the previous pass just gives 0.
    if (!prev || i >= prev.offsets.length || prev.sections[i] !== this.section.order) return 0;
    // From the line's start: the repetitions of a `times` line before this one were in
    // the previous pass's layout too, so they do not move a label further down.
    return this.lineStarts.offsets[i] - prev.offsets[i];
  }

  /** While a `times` line repeats its statement: `$`, which stays the line's start (as in nasm). */
  lineHere: Value | null = null;

  here(): Value {
    if (this.lineHere) return this.lineHere;
    if (this.absolute) return numberValue(this.absolute.offset, null);
    return numberValue(this.section.vaddr + this.section.offset, this.section.name);
  }
  sectionStart(): Value {
    if (this.absolute) return makeValue(0n, null);
    return numberValue(this.section.vaddr, this.section.name);
  }

  qualify(name: string): string {
    if (name.charCodeAt(0) !== 46 || name.charCodeAt(1) === 46) return name;
    const locals = (this.locals ??= this.scopeLocals(this.lastGlobal));
    let q = locals.get(name);
    if (q === undefined) {
      q = this.lastGlobal + name;
      locals.set(name, q);
    }
    return q;
  }

  private scopeLocals(scope: string): Map<string, string> {
    let locals = this.scopes.get(scope);
    if (locals === undefined) this.scopes.set(scope, (locals = new Map()));
    return locals;
  }

  /** Names the final pass defined in lines a macro made (the index of a document finds no other trace of them). */
  readonly macroLabels: MacroLabel[] = [];

  /** Errors met in this pass, reported or not (only the final pass reports). */
  problems = 0;

  /** Problems reported in this (final) pass, listed or not. */
  reports = 0;

  report(severity: Severity, code: string, message: string, span: Span): void {
    if (severity === 'error') this.problems++;
    if (!this.final) return;
    this.reports++;
    if (!this.diagnostics.room(severity)) return;
    const line = this.line;
    // a problem in the text a %define put in a line written here: reported at the line,
    // with the define's text as related information (as in a macro's expansion)
    // (a define comes before the line that uses it, or from another file)
    if (line && this.stack.length === 0 && (span.file !== line.file || span.end < line.start)) {
      // the line's own text: its span's end can be a define token's (before its start)
      const text = this.files[line.file]?.text ?? '';
      const nl = text.indexOf('\n', line.start);
      const at = { file: line.file, start: line.start, end: Math.max(line.start, nl < 0 ? text.length : nl) };
      this.diagnostics.items.push({ severity, code, message: `${message} (in the expansion of a %define)`, span: at, related: [{ span: spanOf(span), message }] });
      return;
    }
    this.diagnostics.items.push(locate({ severity, code, message, span: spanOf(span), related: [] }, this.stack));
  }

  switchSection(name: string, span: Span | null, attrs: Token[] = []): void {
    let s = this.sections.get(name);
    if (!s) {
      s = {
        name, ...defaultAttributes(name), align: name === '.text' ? 1 : 4, order: this.sections.size, offset: 0,
        vaddr: this.layout.get(name) ?? 0, bytes: new ByteWriter(), firstSpan: span,
      };
      this.sections.set(name, s);
    }
    for (const a of attrs) {
      const t = a.text.toLowerCase();
      if (t === 'nobits') s.kind = 'nobits';
      else if (t === 'progbits') s.kind = 'progbits';
      else if (t === 'exec') s.exec = true;
      else if (t === 'noexec') s.exec = false;
      else if (t === 'write') s.write = true;
      else if (t === 'nowrite') s.write = false;
      else if (t.startsWith('align=')) {
        const n = Number(t.slice(6));
        if (!Number.isInteger(n) || n <= 0 || (n & (n - 1)) !== 0) this.report('error', 'directive', `section alignment must be a power of two, not '${t.slice(6)}'`, a);
        else s.align = Math.max(s.align, n);
      } else if (t !== 'alloc' && t !== 'noalloc' && t !== 'align' && t !== '=' && !/^\d+$/.test(t) && span) {
        this.report('warning', 'directive', `section attribute '${a.text}' is ignored`, a);
      }
    }
    this.section = s;
    this.absolute = null;
  }

  /** False (with an error) when growing the current section by `n` bytes would pass the limit. */
  room(n: number, span: Span): boolean {
    const used = this.absolute ? this.absolute.offset : this.section.offset;
    if (n >= 0 && used + n <= MAX_SECTION_BYTES) return true;
    if (!this.tooLarge) this.report('error', 'too-large', `section would exceed ${MAX_SECTION_BYTES / 1024 / 1024} MiB`, span);
    this.tooLarge = true;
    return false;
  }
  tooLarge = false;
  /** The last instruction encoded had a relative branch operand (its bytes depend on its address). */
  lastRelative = false;

  /** Appends bytes at the location counter (or just advances it outside the final pass). */
  emit(bytes: ArrayLike<number>, span: Span): void {
    this.emitRange(bytes, 0, bytes.length, span);
  }

  /** emit() of `count` bytes of `buf` from `at`. */
  emitRange(buf: ArrayLike<number>, at: number, count: number, span: Span): void {
    if (!this.room(count, span)) return;
    if (this.absolute) {
      if (count) this.report('warning', 'absolute-data', 'data in an absolute section (struc/absolute) is not emitted', span);
      this.absolute.offset += count;
      return;
    }
    const s = this.section;
    if (s.kind === 'nobits' && count) {
      this.report('warning', 'nobits-data', `initialized data in nobits section '${s.name}' is ignored`, span);
    } else if (this.final) {
      s.bytes.append(buf, at, count);
    }
    s.offset += count;
  }

  /** Moves the location counter without producing bytes (layout passes). */
  advance(n: number): void {
    if (this.absolute) this.absolute.offset += n;
    else this.section.offset += n;
  }

  reserve(n: number, span: Span): void {
    if (!this.room(n, span)) return;
    if (this.absolute) {
      this.absolute.offset += n;
      return;
    }
    const s = this.section;
    if (s.kind === 'progbits') {
      if (this.final) s.bytes.zeros(n);
    }
    s.offset += n;
  }

  location(): number {
    return this.absolute ? this.absolute.offset : this.section.vaddr + this.section.offset;
  }
}

/** A name a line from a macro defined: where its text is, and the outermost macro call that made it. */
export interface MacroLabel {
  /** The full name (a local's qualified), and as the line has it. */
  name: string;
  written: string;
  span: Span;
  call: Span;
  /** Defined by `equ`. */
  constant: boolean;
}

export function assemble(opts: AssembleOptions): AssembleResult {
  const provider = opts.provider ?? NO_PROVIDER;
  const pre = preprocess(opts.path, opts.text, provider, opts.predefined, opts.maxLines, opts.moveTreesInPlace);
  const symbols = new Map<string, SymbolState>();
  const scopes = new Map<string, Map<string, string>>();
  const assembly = ++assemblies;
  let layout = new Map<string, number>();
  let previousSizes = new Sizes(0);
  let previousLines: LineStarts | null = null;
  const notes = new LineNotes(pre.nodes.length);
  let final!: Pass;
  let stable = false;
  // Pass 1 only lays out (forward references unknown). Every later pass also emits bytes
  // and diagnostics; the first one that changes nothing is the result.
  for (let n = 1; n <= MAX_PASSES && !stable; n++) {
    final = new Pass(n, n > 1, symbols, scopes, layout, previousSizes, notes, n > GROW_ONLY_AFTER, pre.files, provider, pre.nodes.length, previousLines, assembly);
    runPass(final, pre.nodes, pre.stacks);
    const newLayout = computeLayout(final);
    stable = n > 1 && !final.changed && sameLayout(layout, newLayout);
    layout = newLayout;
    previousSizes = final.sizes;
    previousLines = final.lineStarts;
  }
  const passes = final.number;
  final.stack = [];
  const contents = new Map<SectionState, Uint8Array>();
  const image = buildImage(final, layout, contents);
  const diagnostics = [...pre.diagnostics, ...final.diagnostics.finish()];
  if (!stable) {
    diagnostics.push({ severity: 'error', code: 'no-convergence', message: `label addresses did not settle after ${MAX_PASSES} passes`, span: { file: 0, start: 0, end: 0 }, related: [] });
  }
  let listing: ListingRow[] | null = null;
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    image, diagnostics, files: pre.files, trees: pre.trees, passes, macroLabels: final.macroLabels,
    get listing() {
      if (!listing) {
        const rows: ListingRow[] = [];
        eachRow(final, pre.nodes, pre.stacks, contents, (r) => {
          rows.push({ line: { node: r.node, stack: r.stack }, address: r.address, reserved: r.reserved, bytes: r.data.subarray(r.from, r.to) });
        });
        listing = rows;
      }
      return listing;
    },
    eachRow(visit) {
      eachRow(final, pre.nodes, pre.stacks, contents, visit);
    },
  };
}

function sameLayout(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Section start addresses the way `nasm -f bin` places them. */
function computeLayout(pass: Pass): Map<string, number> {
  const out = new Map<string, number>();
  let at = pass.org ?? 0;
  const ordered = orderedSections(pass);
  let first = true;
  for (const s of ordered) {
    if (!first) at = alignUp(at, s.align);
    first = false;
    out.set(s.name, at);
    at += s.offset;
  }
  return out;
}

function orderedSections(pass: Pass): SectionState[] {
  const all = [...pass.sections.values()];
  const text = all.filter((s) => s.name === '.text');
  const rest = all.filter((s) => s.name !== '.text').sort((a, b) => a.order - b.order);
  const progbits = [...text, ...rest].filter((s) => s.kind === 'progbits');
  const nobits = [...text, ...rest].filter((s) => s.kind === 'nobits');
  return [...progbits, ...nobits];
}

function alignUp(v: number, a: number): number {
  return a <= 1 ? v : Math.ceil(v / a) * a;
}

function runPass(pass: Pass, nodes: readonly LineNode[], stacks: readonly (readonly Frame[])[]): void {
  const starts = pass.lineStarts;
  for (let i = 0; i < nodes.length; i++) {
    pass.lineIndex = i;
    starts.offsets[i] = pass.absolute ? -1 : pass.section.offset;
    starts.sections[i] = pass.absolute ? -1 : pass.section.order;
    pass.stack = stacks[i];
    pass.line = nodes[i];
    if (pass.notes.length[i] !== 0 && emitKept(pass, i)) continue;
    const node = nodes[i];
    if (node.errors.length) {
      if (pass.final) for (const e of node.errors) pass.report('error', e.code, e.message, e.span);
      // Still define the label so one typo doesn't cascade into undefined-symbol errors.
      if (node.label && !(node.statement && node.statement.kind === 'equ')) defineLabel(pass, node);
      continue;
    }
    const startLoc = pass.location();
    const startSection = pass.section;
    const startLen = startSection.bytes.length;
    const startAbs = pass.absolute;
    const startOffset = startAbs ? startAbs.offset : startSection.offset;
    if (node.label && !(node.statement && node.statement.kind === 'equ')) defineLabel(pass, node);
    if (node.statement) {
      statement(pass, node.statement, node, node.label ? -1 : i);
      // Directives are listed when they produced bytes (align, at, incbin).
      const kind = node.statement.kind;
      const produced = kind !== 'directive' || (pass.section === startSection && pass.location() !== startLoc);
      if (pass.final && kind !== 'equ' && produced) recordListing(pass, i, startOffset, startSection, startLen, startAbs);
      if (kind === 'instruction') pass.notes.noteKept(i, node);
    }
  }
  pass.line = null;
  if (pass.absolute && pass.absolute.struc) {
    pass.report('error', 'directive', `struc '${pass.absolute.struc}' has no endstruc`, { file: 0, start: 0, end: 0 });
  }
}

/**
 * The final pass's output for kept line `i`, as its tree would give it (false, and nothing
 * done, where that needs the general path: sizes that may only grow, absolute or nobits
 * sections, a section at its size limit).
 */
function emitKept(pass: Pass, i: number): boolean {
  const notes = pass.notes;
  const length = notes.length[i];
  const section = pass.section;
  if (!pass.final || pass.growOnly || pass.absolute || section.kind !== 'progbits' || section.offset + length > MAX_SECTION_BYTES) return false;
  const startOffset = section.offset;
  const startLen = section.bytes.length;
  place(pass, pass.sizeIndex++, length);
  pass.lastRelative = false;
  addLineRow(pass, notes.file[i], notes.start[i]);
  section.bytes.append(notes.bytes, notes.at[i], length);
  section.offset += length;
  recordListing(pass, i, startOffset, section, startLen, null);
  return true;
}

/**
 * A listing row for line `line`, which started at `startOffset` of `section` (of `abs`
 * when absolute). Offsets, not addresses, cross the call: an address above 2^31 (a kernel
 * linked high) is no small integer, and would be boxed for every line.
 */
function recordListing(pass: Pass, line: number, startOffset: number, section: SectionState, startLen: number, abs: Pass['absolute']): void {
  const startLoc = abs ? startOffset : section.vaddr + startOffset;
  const r = pass.listing;
  const k = pass.listed++ * ROW_FIELDS;
  r[k] = line;
  r[k + 1] = startLoc;
  if (abs || pass.absolute) {
    r[k + 2] = -1;
    r[k + 3] = r[k + 4] = 0;
    r[k + 5] = pass.location() - startLoc;
    return;
  }
  r[k + 2] = section.order;
  r[k + 3] = startLen;
  r[k + 4] = section.bytes.length;
  r[k + 5] = section === pass.section && section.kind === 'nobits' ? pass.location() - startLoc : 0;
}

/** Listing rows with their bytes, cut from the finished section contents. */
const NO_BYTES = new Uint8Array(0);

function eachRow(
  pass: Pass, nodes: readonly LineNode[], stacks: readonly (readonly Frame[])[], contents: Map<SectionState, Uint8Array>, visit: (row: Readonly<RowView>) => void,
): void {
  const byOrder: Uint8Array[] = [];
  for (const [s, bytes] of contents) byOrder[s.order] = bytes;
  const view: RowView = { node: nodes[0], stack: stacks[0], address: 0, data: NO_BYTES, from: 0, to: 0, reserved: 0 };
  const r = pass.listing;
  for (let k = 0; k < pass.listed * ROW_FIELDS; k += ROW_FIELDS) {
    const data = r[k + 2] >= 0 ? byOrder[r[k + 2]] : undefined;
    view.node = nodes[r[k]];
    view.stack = stacks[r[k]];
    view.address = r[k + 1];
    view.reserved = r[k + 5];
    view.data = data ?? NO_BYTES;
    // as subarray(from, to) would clamp them
    const n = data ? data.length : 0;
    view.from = Math.min(Math.max(r[k + 3], 0), n);
    view.to = Math.max(view.from, Math.min(r[k + 4], n));
    visit(view);
  }
}

function defineLabel(pass: Pass, node: LineNode, value?: Value, constant = false): void {
  const label = node.label!;
  // The symbol an earlier pass found for this line under the same scope, else found by its (qualified) name.
  const scope = pass.scopeId;
  const noted = pass.notes.label(pass.lineIndex, scope);
  let name = label.name;
  const dot = name.charCodeAt(0) === 46;
  const dots = dot && name.charCodeAt(1) === 46;
  if (dots && name.charCodeAt(2) === 64 /* ..@ */) {
    // macro-local labels: unique already, and they don't open a new local scope
  } else if (dots) {
    return pass.report('error', 'special-symbol', `unrecognised special symbol '${name}': nasm keeps names beginning with '..' for its own ('..@' begins a label of yours)`, label);
  } else if (dot) {
    if (!pass.lastGlobal && !pass.absolute?.struc) pass.report('warning', 'orphan-local', `local label '${name}' has no preceding non-local label`, label);
    name = noted ? noted.name : pass.qualify(name);
  } else {
    pass.setScope(name);
  }
  if (!label.colon && !node.statement) {
    // nasm's rule for a word alone on a line, but not for an instruction it knows and we lack
    const unsupported = unsupportedInstruction(label.name);
    if (unsupported) return pass.report('error', 'unknown-instruction', unsupported, label);
    pass.report('warning', 'orphan-label', `label '${name}' alone on a line without a colon`, label);
  }
  const prev = noted ?? pass.symbols.get(name);
  if (prev && prev.pass === pass.number) {
    pass.report('error', 'duplicate-label', `symbol '${name}' is already defined`, label);
    return;
  }
  if (pass.final && pass.stack.length !== 0) {
    const call = pass.stack.find((f) => f.kind === 'macro');
    if (call) pass.macroLabels.push({ name, written: label.name, span: { file: label.file, start: label.start, end: label.end }, call: call.span, constant: node.statement?.kind === 'equ' });
  }
  // A label is its section and offset (its address is made when asked for); in struc and
  // absolute blocks a name is a number.
  const isLabel = value === undefined && !pass.absolute;
  const v = isLabel ? null : value ?? pass.here();
  const offset = isLabel ? pass.section.offset : 0;
  const section = isLabel ? pass.section.name : v!.sect;
  if (!prev) {
    pass.changed = true;
    const s = newSymbol(name, v, offset, pass.number, section, isLabel, constant);
    pass.symbols.set(name, s);
    pass.notes.noteLabel(pass.lineIndex, scope, s);
    return;
  }
  pass.notes.noteLabel(pass.lineIndex, scope, prev);
  // A label is its section and offset: the section's address is checked with the layout,
  // so a label whose section moved (pass 1 cannot place sections) does not force a pass.
  const same = isLabel
    ? prev.isLabel && prev.section === section && prev.offset === offset
    : !prev.isLabel && prev.value!.n === v!.n && prev.value!.sect === v!.sect;
  if (!same) pass.changed = true;
  prev.value = v;
  prev.offset = offset;
  prev.pass = pass.number;
  prev.section = section;
  prev.isLabel = isLabel;
  prev.constant = constant;
  prev.cachePass = undefined;
}

/** A symbol table entry, with every field it will have (one shape for all). */
function newSymbol(name: string, value: Value | null, offset: number, pass: number, section: string | null, isLabel: boolean, constant: boolean): SymbolState {
  return { name, cache: undefined, cachePass: undefined, offset, value, pass, section, isLabel, constant, index: -1 };
}

/** Evaluates an expression; unknown symbols yield undefined before the final pass. */
function tryEval(pass: Pass, e: Expr): Value | undefined {
  try {
    const v = evaluatePartial(e, pass);
    if (v === undefined && pass.final) throw unknownSymbol();
    return v;
  } catch (err) {
    if (!(err instanceof EvalError)) throw err;
    if (!err.unknown || pass.final) pass.report('error', err.unknown ? 'undefined-symbol' : 'expression', err.message, err.span);
    return undefined;
  }
}

/** Evaluates an expression that must be known now (counts, alignments, org). */
function critical(pass: Pass, e: Expr, what: string): number | undefined {
  try {
    const v = evaluate(e, pass);
    return Number(v.n);
  } catch (err) {
    if (!(err instanceof EvalError)) throw err;
    const msg = err.unknown ? `${err.message}: ${what} must be computable when the line is reached (no forward references)` : err.message;
    if (pass.final || !err.unknown) pass.report('error', err.unknown ? 'undefined-symbol' : 'expression', msg, err.span);
    return undefined;
  }
}

/** Runs a statement of `node`; `line`: the expanded line's index when the statement is all of it, else -1. */
function statement(pass: Pass, st: Statement, node: LineNode, line = -1): void {
  switch (st.kind) {
    case 'instruction': return instruction(pass, st, line);
    case 'data': return data(pass, st.unit, st.items, st);
    case 'reserve': {
      const n = critical(pass, st.count, 'a reservation size');
      if (n === undefined) return;
      if (n < 0) return pass.report('error', 'directive', `negative reservation size ${n}`, st.count);
      if (pass.final && n > 0 && !pass.absolute && pass.section.kind === 'progbits') {
        pass.report('warning', 'zeroing', `uninitialized space declared in progbits section '${pass.section.name}': zeroing`, st);
      }
      return pass.reserve(n * st.unit, st);
    }
    case 'times': {
      const n = critical(pass, st.count, 'the times count');
      if (n === undefined || !st.body) return;
      if (n < 0) return pass.report('error', 'directive', `times count ${n} is negative`, st.count);
      if (n > MAX_SECTION_BYTES) return pass.report('error', 'too-large', `times count ${n} is too large`, st.count);
      return times(pass, n, st.body, node);
    }
    case 'equ': {
      if (!node.label) return pass.report('error', 'directive', "'equ' needs a label before it", st);
      const v = tryEval(pass, st.value);
      // Unknown yet: left undefined; later references get a located error in the final pass.
      if (v === undefined) return;
      return defineLabel(pass, node, v, exprFixedness(pass, st.value) !== NOT_FIXED);
    }
    case 'directive':
      return directive(pass, st, node);
  }
}

/**
 * Whether a symbol's value is the same in every pass: an `equ` constant already defined.
 * Looked up unqualified on purpose: a local name can mean another symbol under another
 * label, and one tree may serve several places (macro lines are shared between
 * expansions), so local names never count as constant.
 */
function isConstant(pass: Pass, leaf: Expr & { kind: 'sym' }): boolean {
  return pass.symbols.get(leaf.name)?.constant === true;
}

/**
 * `times n stmt`. `$` is the line's start in every repetition (as in nasm), so all
 * repetitions are the same unless the statement is a relative branch: it is assembled
 * once and its bytes repeated, so `times 65536 db 0` is cheap.
 */
function times(pass: Pass, n: number, body: Statement, node: LineNode): void {
  if (n > 0) withLineHere(pass, () => repeatBody(pass, n, body, node));
}

/** Runs `f` with `$` held at the current location, for a statement repeated on one line. */
function withLineHere(pass: Pass, f: () => void): void {
  const outer = pass.lineHere;
  pass.lineHere = pass.here();
  f();
  pass.lineHere = outer;
}

function repeatBody(pass: Pass, n: number, body: Statement, node: LineNode): void {
  const before = pass.location();
  const section = pass.section;
  const startLen = section.bytes.length;
  pass.lastRelative = false;
  statement(pass, body, node);
  const size = pass.location() - before;
  if (pass.lastRelative || pass.section !== section) {
    repeat(pass, n - 1, body, node);
    return;
  }
  const rest = size * (n - 1);
  if (size === 0 || !pass.room(rest, body)) return;
  if (pass.final && !pass.absolute && section.kind === 'progbits') {
    if (section.bytes.length - startLen === size) section.bytes.repeat(startLen, n - 1);
    else section.bytes.zeros(rest);
  }
  pass.advance(rest);
}

/** `n` repetitions one by one, stopping at the first error: its repetitions would say nothing new. */
function repeat(pass: Pass, n: number, body: Statement, node: LineNode): void {
  const problems = pass.problems;
  for (let i = 0; i < n && !pass.tooLarge && pass.problems === problems; i++) statement(pass, body, node);
}

const REGISTER_OPERANDS = new Map<string, ResolvedOperand>();

/** Register operands never change: one shared object per register. */
function registerOperand(reg: Register): ResolvedOperand {
  let r = REGISTER_OPERANDS.get(reg.name);
  if (!r) {
    r = { kind: 'reg', reg };
    REGISTER_OPERANDS.set(reg.name, r);
  }
  return r;
}

type ImmOperand = Extract<ResolvedOperand, { kind: 'imm' }>;
type MemOperand = Extract<ResolvedOperand, { kind: 'mem' }>;
type FarOperand = Extract<ResolvedOperand, { kind: 'farptr' }>;

const blankImm = (): ImmOperand => ({ kind: 'imm', value: undefined, size: 0, strict: false, distance: '' });
const blankMem = (): MemOperand => ({ kind: 'mem', size: 0, far: false, seg: null, shape: NO_SHAPE, disp: undefined, dispSize: 0 });
const blankFar = (): FarOperand => ({ kind: 'farptr', seg: undefined, offset: undefined });
const NO_SHAPE: AddressShape = { base: null, index: null, scale: 1, disp: null, adsize: 32 };

/**
 * Operand objects for an encoding: one of each kind per operand position, reused by every
 * encoding (the encoder keeps none, and an operand is resolved again in each pass that
 * encodes it: cheaper than keeping objects on thousands of statements).
 */
const SCRATCH_SLOTS = 4;
const SCRATCH_IMM = Array.from({ length: SCRATCH_SLOTS }, blankImm);
const SCRATCH_MEM = Array.from({ length: SCRATCH_SLOTS }, blankMem);
const SCRATCH_FAR = Array.from({ length: SCRATCH_SLOTS }, blankFar);
const SCRATCH_LISTS = Array.from({ length: SCRATCH_SLOTS + 1 }, (_, n) => new Array<ResolvedOperand>(n));

/**
 * An operand as the encoder takes it, in the scratch object of position `slot` (a new
 * object past the scratch slots). `a16`: the instruction has an a16 prefix.
 */
function resolveOperand(pass: Pass, op: OperandNode, slot: number, a16: boolean): ResolvedOperand | null {
  const scratch = slot >= 0 && slot < SCRATCH_SLOTS;
  switch (op.kind) {
    case 'reg':
      return registerOperand(op.reg);
    case 'imm': {
      const r = scratch ? SCRATCH_IMM[slot] : blankImm();
      r.value = tryEval(pass, op.expr);
      r.size = op.size;
      r.strict = op.strict;
      r.distance = op.distance;
      return r;
    }
    case 'farptr': {
      const r = scratch ? SCRATCH_FAR[slot] : blankFar();
      r.seg = tryEval(pass, op.seg);
      r.offset = tryEval(pass, op.offset);
      return r;
    }
    case 'mem': {
      let shape = op.shape;
      try {
        shape ??= op.shape = addressShape(op.addr, op.nosplit, op, op.dispSize, a16);
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
        pass.report('error', 'address', err.message, err.span);
        return null;
      }
      const r = scratch ? SCRATCH_MEM[slot] : blankMem();
      r.size = op.size;
      r.far = op.far;
      r.seg = op.seg;
      r.shape = shape;
      r.disp = shape.disp ? tryEval(pass, shape.disp) : ZERO;
      r.dispSize = op.dispSize;
      return r;
    }
  }
}

/**
 * The operands' values are known and the same in every pass (no label, no `$`), so the
 * encoding cannot depend on the layout. FIXED_NOW when that holds only through `equ`
 * constants of this assembly.
 */
function fixedness(pass: Pass, st: Extract<Statement, { kind: 'instruction' }>): number {
  let how = FIXED;
  const ops = st.operands;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    switch (o.kind) {
      case 'mem': how = Math.max(how, exprFixedness(pass, o.addr)); break;
      case 'imm': how = Math.max(how, exprFixedness(pass, o.expr)); break;
      case 'farptr': how = Math.max(how, exprFixedness(pass, o.seg), exprFixedness(pass, o.offset)); break;
    }
  }
  return how;
}
const FIXED = 0, FIXED_NOW = 1, NOT_FIXED = 2;

/** FIXED without symbols or `$`, FIXED_NOW when its symbols are all constants (isConstant), else NOT_FIXED. */
function exprFixedness(pass: Pass, e: Expr | null): number {
  if (!e) return FIXED;
  switch (e.kind) {
    case 'unary': return exprFixedness(pass, e.arg);
    case 'binary': return Math.max(exprFixedness(pass, e.left), exprFixedness(pass, e.right));
    case 'cond': return Math.max(exprFixedness(pass, e.test), exprFixedness(pass, e.then), exprFixedness(pass, e.else));
    case 'sym': return isConstant(pass, e) ? FIXED_NOW : NOT_FIXED;
    case 'here': case 'sectstart': return NOT_FIXED;
    default: return FIXED;
  }
}

/**
 * `line`: the expanded line's index when the instruction is all of it. Such an instruction
 * met for the first time, when constant, keeps its bytes in the line's notes and gets no
 * memo (a statement of a shared tree gets one when met again).
 */
function instruction(pass: Pass, st: InstructionStatement, line: number): void {
  const key = pass.sizeIndex++;
  let memo = st.memo;
  if (memo === MET_ONCE) memo = st.memo = newMemo();
  if (memo !== undefined && memo.assembly !== undefined && memo.assembly !== pass.assembly) forgetBytes(memo);
  // An instruction with no symbol, `$` or branch has the same length in every pass.
  const fixed = memo?.fixed;
  if (memo !== undefined && fixed !== undefined && fixed >= 0 && (!pass.final || memo.pool)) {
    pass.lastRelative = false;
    const length = place(pass, key, fixed);
    if (pass.final) emitInstruction(pass, st, memo.pool!, memo.at!, fixed, memo.warnings ?? NO_WARNINGS, length);
    return;
  }
  // An instruction whose values are all known for good is encoded for good the first
  // time, so the layout pass can keep its bytes too (and its operands need not be kept).
  const how = fixed === undefined ? fixedness(pass, st) : NOT_FIXED;
  // A statement met for the first time is encoded with a scratch memo: it gets one of its
  // own only to keep bytes, and shares its plan's when its encoding depends on values.
  const m = memo ?? scratchMemo();
  const n = st.operands.length;
  const operands = n <= SCRATCH_SLOTS ? SCRATCH_LISTS[n] : new Array<ResolvedOperand>(n);
  const a16 = st.prefixes.length !== 0 && st.prefixes.some((p) => p.text === 'a16');
  const problems = pass.problems;
  for (let i = 0; i < n; i++) {
    const r = resolveOperand(pass, st.operands[i], i, a16);
    if (!r) {
      pass.sizes.set(key, 0);
      return;
    }
    operands[i] = r;
  }
  // An operand in error (1/0) keeps nothing: the final pass must meet it again to report it.
  const constant = how !== NOT_FIXED && pass.problems === problems;
  const toNotes = memo === undefined && constant && line >= 0;
  const req = REQUEST;
  req.mnemonic = st.mnemonic.text;
  req.prefixes = st.prefixes.length ? st.prefixes.map((p) => p.text) : NO_PREFIXES;
  req.operands = operands;
  req.address = pass.location();
  req.section = pass.absolute ? '' : pass.section.name;
  req.final = pass.final || constant;
  req.memo = m;
  const res = encodeInstruction(req);
  if (!res.ok) {
    const span = res.operand !== undefined ? st.operands[res.operand] : res.code === 'unknown-instruction' ? st.mnemonic : st;
    pass.report('error', res.code, res.message, span);
    pass.sizes.set(key, 0);
    return;
  }
  pass.lastRelative = res.relative;
  if (toNotes && !res.relative && res.warnings.length === 0) {
    pass.notes.keep(line, st, res.bytes, res.at, res.length);
    st.memo = MET_ONCE;
    const length = place(pass, key, res.length);
    if (pass.final) emitInstruction(pass, st, res.bytes, res.at, res.length, res.warnings, length);
    return;
  }
  if (fixed === undefined) {
    if (pass.lastRelative || !constant) memo = st.memo = variableMemo(m.plan!);
    else {
      // Constant (a branch, or warnings to give in the final pass, when its line's notes
      // could not keep it): its bytes are kept on a memo of its own.
      memo ??= newMemo();
      memo.plan = m.plan;
      memo.fixed = res.length;
      if (how === FIXED_NOW) memo.assembly = pass.assembly;
      st.memo = memo;
    }
  }
  if (memo!.fixed === res.length && req.final) {
    // Same bytes in every later pass: keep them.
    keepBytes(memo!, res.bytes, res.at);
    memo!.warnings = res.warnings;
  }
  const length = place(pass, key, res.length);
  if (pass.final) emitInstruction(pass, st, res.bytes, res.at, res.length, res.warnings, length);
}

/** Marks a statement met once, whose bytes its line's notes kept (met again, it gets a memo). Never changed. */
const MET_ONCE: InstructionMemo = newMemo();

const SCRATCH_MEMO: InstructionMemo = newMemo();

/** An empty memo for a statement's first encoding (the encoder fills in its plan). */
function scratchMemo(): InstructionMemo {
  forgetBytes(SCRATCH_MEMO);
  SCRATCH_MEMO.plan = undefined;
  return SCRATCH_MEMO;
}

/**
 * The memo of every statement of one plan whose encoding depends on its values (a label,
 * `$`, a branch): all it holds is the plan, so thousands of such statements share one.
 * Never changed: such a memo keeps no bytes and depends on no assembly.
 */
const VARIABLE_MEMOS = new Map<ShapePlan, InstructionMemo>();

function variableMemo(plan: ShapePlan): InstructionMemo {
  let memo = VARIABLE_MEMOS.get(plan);
  if (memo === undefined) {
    memo = newMemo();
    memo.plan = plan;
    memo.fixed = -1;
    VARIABLE_MEMOS.set(plan, memo);
  }
  return memo;
}

/** A memo as one object of fixed shape (fields added later would each cost a transition). */
function newMemo(): InstructionMemo {
  return { plan: undefined, fixed: undefined, assembly: undefined, pool: undefined, at: undefined, warnings: undefined };
}

/** Drops kept bytes that relied on another assembly's `equ` constants (a cached tree met again). */
function forgetBytes(memo: InstructionMemo): void {
  memo.fixed = memo.assembly = memo.pool = memo.at = memo.warnings = undefined;
}

/**
 * Kept instruction bytes live in shared chunks rather than an array each: a 10k-line
 * program keeps thousands, and small arrays are what the garbage collector copies.
 */
let bytePool = new Uint8Array(1 << 16);
let bytePoolUsed = 0;

function keepBytes(memo: InstructionMemo, bytes: readonly number[], at: number): void {
  const n = memo.fixed!;
  if (bytePoolUsed + n > bytePool.length) {
    bytePool = new Uint8Array(1 << 16);
    bytePoolUsed = 0;
  }
  memo.pool = bytePool;
  memo.at = bytePoolUsed;
  for (let i = at; i < at + n; i++) bytePool[bytePoolUsed++] = bytes[i];
}

/**
 * Final-pass output of one instruction at the location counter: `count` bytes of `buf`
 * from `at` (NOP-padded to `length`), line row, warnings.
 */
function emitInstruction(
  pass: Pass, st: Extract<Statement, { kind: 'instruction' }>,
  buf: ArrayLike<number>, at: number, count: number, warnings: readonly string[], length: number,
): void {
  if (length > count) {
    pass.report('warning', 'padded', `padded with ${length - count} NOP byte(s): this instruction's size and the labels it depends on never settle otherwise (nasm gives up on such programs)`, st);
  }
  for (let i = 0; i < warnings.length; i++) pass.report('warning', 'overflow', warnings[i], st);
  if (!pass.absolute) addLineRow(pass, st.mnemonic.file, st.mnemonic.start);
  pass.emitRange(buf, at, count, st);
  if (length > count) pass.emit(new Array(length - count).fill(NOP), st);
}

const NO_PREFIXES: readonly string[] = [];
const NO_WARNINGS: readonly string[] = [];
/** One request and one result object serve every encoding (the encoder keeps no reference to them). */
const scratch: number[] = [];
const RESULT: EncodeSuccess = { ok: true, length: 0, bytes: scratch, at: 0, form: FORMS[0], relative: false, warnings: NO_WARNINGS };
const REQUEST: EncodeRequest = { mnemonic: '', prefixes: NO_PREFIXES, operands: [], address: 0, section: '', final: false, out: scratch, result: RESULT };

/**
 * Records an instruction's size for convergence and, outside the final pass, moves the
 * location counter. After many passes an instruction may only grow (NOP padding), so
 * the passes always settle. Returns the size used.
 */
function place(pass: Pass, key: number, length: number): number {
  const prev = pass.previousSizes.get(key);
  const size = pass.growOnly && prev >= 0 && length < prev ? prev : length;
  if (prev !== size) pass.changed = true;
  pass.sizes.set(key, size);
  if (!pass.final) pass.advance(size);
  return size;
}

/**
 * A line table row for the code at the location counter (in a section: never called in
 * absolute mode), from offset `start` of file `fileId`.
 */
function addLineRow(pass: Pass, fileId: number, start: number): void {
  if (pass.files[fileId]) pass.lines.add(pass.section, pass.section.offset, fileId, start);
}

function dataSize(unit: number, items: DataItem[]): number {
  let n = 0;
  for (const item of items) n += item.kind === 'string' ? Math.ceil(item.bytes.length / unit) * unit : unit;
  return n;
}

/** The values a data unit of 1, 2 or 4 bytes holds without a warning (signed or unsigned). */
const DATA_RANGE: Readonly<Record<number, readonly [bigint, bigint]>> = {
  1: [-0x80n, 0xffn], 2: [-0x8000n, 0xffffn], 4: [-0x80000000n, 0xffffffffn],
};

function data(pass: Pass, unit: number, items: DataItem[], span: Span): void {
  if (items.length === 0) return pass.report('warning', 'db-empty', 'no operand for data declaration: nothing is emitted', span);
  if (!pass.final) {
    // Layout passes only need the size, which does not depend on any value.
    const n = dataSize(unit, items);
    if (pass.room(n, span)) pass.advance(n);
    return;
  }
  // `?` is space: in a progbits section nasm zeroes it, and says so; only `?`s are
  // reserved as resb reserves (no word about it in a nobits section).
  let uninit = 0;
  for (let i = 0; i < items.length; i++) if (items[i].kind === 'uninit') uninit++;
  if (uninit > 0 && !pass.absolute && pass.section.kind === 'progbits') {
    pass.report('warning', 'zeroing', `uninitialized space declared in progbits section '${pass.section.name}': zeroing`, span);
  }
  if (uninit > 0 && uninit === items.length) return pass.reserve(unit * items.length, span);
  const out: number[] = [];
  for (const item of items) {
    if (item.kind === 'string') {
      for (const b of item.bytes) out.push(b);
      const pad = (unit - (item.bytes.length % unit)) % unit;
      for (let i = 0; i < pad; i++) out.push(0);
    } else if (item.kind === 'uninit') {
      for (let i = 0; i < unit; i++) out.push(0);
    } else if (item.kind === 'float') {
      const format = floatFormatOfUnit(unit);
      const encoded = format && encodeFloat(item.text, item.negative, format);
      if (!encoded) pass.report('error', 'data', `no floating-point format has ${unit} bytes`, item);
      else if (encoded.overflow) pass.report('warning', 'overflow', 'overflow in floating-point constant', item);
      for (let i = 0; i < unit; i++) out.push(encoded ? encoded.bytes[i] : 0);
    } else {
      if (unit === 10) {
        pass.report('error', 'data', 'dt (80-bit) integers are not supported', item);
        continue;
      }
      const v = tryEval(pass, item.expr);
      const n = v?.n ?? 0n;
      const lo = v ? low32(v) : 0;
      if (v && pass.final && unit < 8) {
        // An address is a number here (the image is linked at its final place): in a byte
        // or word it is cut to fit, as nasm -f bin does (which says nothing; we warn).
        const [min, max] = DATA_RANGE[unit];
        const value = v.sect === null ? n : BigInt(lo >>> 0);
        if (value < min || value > max) pass.report('warning', 'overflow', `${unit === 1 ? 'byte' : unit === 2 ? 'word' : 'dword'} data exceeds bounds${v.sect === null ? '' : ` (an address, 0x${(lo >>> 0).toString(16)})`}`, item);
      }
      for (let i = 0; i < Math.min(unit, 4); i++) out.push((lo >>> (8 * i)) & 0xff);
      if (unit === 8) {
        const hi = Number(BigInt.asIntN(32, n >> 32n));
        for (let i = 0; i < 4; i++) out.push((hi >>> (8 * i)) & 0xff);
      }
    }
  }
  if (pass.final && !pass.absolute && pass.section.kind === 'progbits') addLineRow(pass, span.file, span.start);
  pass.emit(out, span);
}

function directive(pass: Pass, st: Extract<Statement, { kind: 'directive' }>, node: LineNode): void {
  const name = st.name.text;
  const sig = st.args;
  switch (name) {
    case 'bits': case 'use32': case 'use16': {
      const bits = name === 'use32' ? '32' : name === 'use16' ? '16' : sig.map((t) => t.text).join('');
      if (bits === '') pass.report('error', 'directive', 'bits expects a size: bits 32 (xenolab assembles 32-bit code only)', st);
      else if (bits !== '32') pass.report('error', 'directive', `only 32-bit code is supported (bits ${bits})`, st);
      return;
    }
    case 'section': case 'segment': {
      const nameTok = sig[0];
      if (!nameTok) return pass.report('error', 'directive', 'section needs a name', st);
      const attrs = mergeAttributeTokens(sig.slice(1));
      return pass.switchSection(nameTok.text, st, attrs);
    }
    case 'org': {
      const v = critical(pass, st.exprs![0], 'the origin');
      if (v === undefined) return;
      if (pass.org !== null && pass.org !== v) return pass.report('error', 'directive', 'program origin redefined', st);
      pass.org = v >>> 0;
      return;
    }
    case 'align': case 'alignb': {
      const n = critical(pass, st.exprs![0], 'the alignment');
      if (n === undefined) return;
      if (n <= 0 || (n & (n - 1)) !== 0) return pass.report('error', 'directive', `alignment must be a power of two, not ${n}`, st.exprs![0]);
      const base = pass.absolute ? 0 : pass.section.vaddr;
      const pad = (n - ((pass.location() - base) % n)) % n;
      if (!pass.absolute && pass.alignRaisesSection) pass.section.align = Math.max(pass.section.align, n);
      if (!pass.room(pad, st)) return;
      if (name === 'alignb') return pass.reserve(pad, st);
      if (st.body) {
        // nasm's align is `times` of the body: `$` stays the line's start.
        const body = st.body;
        const target = pass.location() + pad;
        return withLineHere(pass, () => alignWith(pass, body, node, target));
      }
      return pass.emit(new Array(pad).fill(NOP), st);
    }
    case 'sectalign': {
      // nasm's sectalign: raise the section's alignment, without padding. `sectalign off`
      // stops align and alignb doing it too (nasm's standard macros).
      if (!st.exprs) {
        pass.alignRaisesSection = sig[0].text.toLowerCase() === 'on';
        return;
      }
      const n = critical(pass, st.exprs[0], 'the alignment');
      if (n === undefined) return;
      if (n <= 0 || (n & (n - 1)) !== 0) return pass.report('error', 'directive', `section alignment must be a power of two, not ${n}`, st.exprs[0]);
      if (!pass.absolute) pass.section.align = Math.max(pass.section.align, n);
      return;
    }
    case 'global': case 'static':
      for (const t of sig) if (t.kind === 'ident') pass.globals.set(t.text, t);
      return;
    case 'extern':
      // As nasm in a flat binary: declaring is harmless; a use is an undefined symbol.
      return;
    case 'common':
      return pass.report('error', 'directive', `'${name}' is not supported: xenolab links one source file into a flat executable`, st);
    case 'struc': {
      const nameTok = sig[0];
      if (!nameTok || nameTok.kind !== 'ident') return pass.report('error', 'directive', 'struc needs a name', st);
      if (pass.absolute?.struc) return pass.report('error', 'directive', `struc '${nameTok.text}' inside struc '${pass.absolute.struc}'`, st);
      const start = st.exprs ? critical(pass, st.exprs[0], 'the structure offset') : 0;
      if (start === undefined) return;
      const saved = pass.section;
      pass.setScope(nameTok.text);
      defineSymbol(pass, nameTok.text, makeValue(BigInt(start), null), nameTok);
      pass.absolute = { offset: start, struc: nameTok.text, saved, start };
      return;
    }
    case 'endstruc': {
      const abs = pass.absolute;
      if (!abs || !abs.struc) return pass.report('error', 'directive', 'endstruc without struc', st);
      defineSymbol(pass, `${abs.struc}_size`, numberValue(abs.offset - abs.start, null), st);
      pass.section = abs.saved;
      pass.absolute = null;
      return;
    }
    case 'absolute': {
      const v = critical(pass, st.exprs![0], 'the absolute address');
      if (v === undefined) return;
      pass.absolute = { offset: v, struc: null, saved: pass.absolute?.saved ?? pass.section, start: v };
      return;
    }
    case 'istruc': {
      const nameTok = sig[0];
      if (!nameTok) return pass.report('error', 'directive', 'istruc needs a structure name', st);
      pass.istruc = { name: nameTok.text, base: pass.location() };
      return;
    }
    case 'at': {
      const ist = pass.istruc;
      if (!ist) return pass.report('error', 'directive', "'at' outside istruc", st);
      const off = critical(pass, st.exprs![0], 'the field offset');
      if (off === undefined) return;
      const pad = ist.base + off - pass.location();
      if (pad < 0) return pass.report('error', 'directive', 'istruc fields out of order or overlapping', st.exprs![0]);
      if (!pass.room(pad, st)) return;
      pass.emit(new Array(pad).fill(0), st);
      if (st.body) statement(pass, st.body, node);
      return;
    }
    case 'iend': {
      const ist = pass.istruc;
      if (!ist) return pass.report('error', 'directive', 'iend without istruc', st);
      const size = pass.symbols.get(`${ist.name}_size`);
      if (!size) return pass.report('error', 'undefined-symbol', `structure '${ist.name}' is not defined`, st);
      const pad = ist.base + Number(pass.valueOf(size).n) - pass.location();
      if (pad < 0) return pass.report('error', 'directive', `istruc data is larger than ${ist.name}_size`, st);
      if (!pass.room(pad, st)) return;
      pass.emit(new Array(pad).fill(0), st);
      pass.istruc = null;
      return;
    }
    case 'incbin':
      return incbin(pass, st);
    case 'default': case 'cpu': case 'warning': case 'map':
      return;
    default:
      return pass.report('error', 'directive', `unknown directive '${name}'`, st.name);
  }
}

/**
 * `align n, body`: the body repeated while the location is short of `target`. Data whose
 * first repetition gave no diagnostic is copied for the others, which would all be the
 * same (`$` stays the line's start): `align 4096, db 0` is one statement, not thousands.
 */
function alignWith(pass: Pass, body: Statement, node: LineNode, target: number): void {
  const section = pass.section;
  const startLen = section.bytes.length;
  const problems = pass.problems;
  const reported = pass.reports;
  let before = pass.location();
  if (before >= target) return;
  statement(pass, body, node);
  const size = pass.location() - before;
  if (size === 0) return;
  const times = Math.ceil((target - pass.location()) / size);
  const same = body.kind === 'data' && size > 0 && pass.section === section && !pass.absolute && pass.problems === problems && pass.reports === reported;
  if (same && times > 0 && section.offset + size * times <= MAX_SECTION_BYTES) {
    if (pass.final && section.kind === 'progbits' && section.bytes.length - startLen === size) section.bytes.repeat(startLen, times);
    pass.advance(size * times);
    return;
  }
  while (pass.location() < target) {
    before = pass.location();
    statement(pass, body, node);
    if (pass.location() === before) break;
  }
}

/** `align=16` arrives as three tokens; glue `name=value` back together. */
function mergeAttributeTokens(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (tokens[i + 1]?.text === '=' && tokens[i + 2]) {
      out.push({ ...t, text: `${t.text}=${tokens[i + 2].text}` });
      i += 2;
    } else out.push(t);
  }
  return out;
}

function defineSymbol(pass: Pass, name: string, v: Value, span: Span): void {
  const prev = pass.symbols.get(name);
  if (prev && prev.pass === pass.number) return pass.report('error', 'duplicate-label', `symbol '${name}' is already defined`, span);
  if (!prev || pass.valueOf(prev).n !== v.n) pass.changed = true;
  if (!prev) {
    pass.symbols.set(name, newSymbol(name, v, 0, pass.number, null, false, false));
    return;
  }
  // Updated in place: lines keep the entries they found (LineNotes).
  prev.value = v;
  prev.offset = 0;
  prev.pass = pass.number;
  prev.section = null;
  prev.isLabel = false;
  prev.constant = false;
  prev.cachePass = undefined;
}

function incbin(pass: Pass, st: Extract<Statement, { kind: 'directive' }>): void {
  const fileTok = st.args[0];
  if (!fileTok || fileTok.kind !== 'string') return pass.report('error', 'directive', 'incbin expects a quoted file name', st);
  const nums = st.args.slice(1).filter((t) => t.kind === 'number').map((t) => Number(t.text));
  const from = pass.files[fileTok.file]?.path ?? '';
  const got = pass.provider.readBinary?.(fileTok.text.slice(1, -1), from);
  if (!got) return pass.report('error', 'include', `unable to open incbin file '${fileTok.text.slice(1, -1)}'`, fileTok);
  const skip = nums[0] ?? 0;
  const len = nums[1] ?? got.bytes.length - skip;
  pass.emit(got.bytes.subarray(skip, skip + Math.max(0, len)), st);
}

function buildImage(pass: Pass, layout: Map<string, number>, contents: Map<SectionState, Uint8Array>): Image {
  const sections: ImageSection[] = [];
  for (const s of orderedSections(pass)) {
    const bytes = s.kind === 'progbits' ? s.bytes.finish() : new Uint8Array(0);
    contents.set(s, bytes);
    if (s.offset === 0 && s.name !== '.text') continue;
    sections.push({
      name: s.name, kind: s.kind, vaddr: layout.get(s.name) ?? 0, size: s.offset,
      bytes, align: s.align, write: s.write, exec: s.exec, alloc: true,
    });
  }
  // At most one per symbol: made at that size (a list grown by push is copied on the way).
  const symbols = new Array<ImageSymbol>(pass.symbols.size);
  let count = 0;
  // forEach: iterating entries would make a [name, state] pair per symbol.
  pass.symbols.forEach((s, name) => {
    if (name.startsWith('..@') || s.pass !== pass.number) return;
    const global = pass.globals.has(name);
    const sec = s.section ? pass.sections.get(s.section) : undefined;
    symbols[count++] = {
      name, value: pass.address(s), size: 0, section: s.section, global,
      kind: sec ? (sec.exec ? 'func' : 'object') : 'notype',
    };
  });
  symbols.length = count;
  for (const [name, span] of pass.globals) {
    if (!pass.symbols.has(name)) pass.report('error', 'undefined-symbol', `global symbol '${name}' is not defined`, span);
  }
  const start = pass.symbols.get('_start');
  const text = sections.find((s) => s.exec) ?? sections[0];
  const entry = start ? pass.address(start) : text ? text.vaddr : 0;
  const notes: ImageNote[] = [];
  for (const s of sections) {
    if (!s.name.startsWith('.note')) continue;
    const got = decodeNotes(s.bytes);
    if (isDecodeError(got)) {
      const at = pass.sections.get(s.name)?.firstSpan ?? { file: 0, start: 0, end: 0 };
      pass.report('error', 'elf-note', `section ${s.name} is not a valid ELF note list: ${got.message} (at byte ${got.offset})`, at);
    } else notes.push(...got);
  }
  const table = pass.lines;
  let lines: LineRow[] | null = null;
  return {
    entry, sections, symbols,
    // Made when first read, as the listing is.
    get lines() {
      return (lines ??= table.rows());
    },
    set lines(rows: LineRow[]) {
      lines = rows;
    },
    notes,
  };
}

/** The flat binary `nasm -f bin` writes: progbits sections from `org`, gaps zero-filled. */
export function flatBinary(image: Image): Uint8Array {
  const prog = image.sections.filter((s) => s.kind === 'progbits');
  if (prog.length === 0) return new Uint8Array(0);
  const base = Math.min(...prog.map((s) => s.vaddr));
  const end = Math.max(...prog.map((s) => s.vaddr + s.size));
  const out = new Uint8Array(end - base);
  for (const s of prog) out.set(s.bytes, s.vaddr - base);
  return out;
}
