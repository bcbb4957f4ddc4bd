// The program as the analyses see it, from one assemble() run: every emitted instruction
// in program order, decoded from the bytes the assembler produced (so operands are the
// resolved values, whatever macros, defines or expressions wrote them), with its address,
// its statement, and where it is in the analysed file (the outermost macro invocation or
// %include line for code from a macro or an include, the inner place kept beside it).

import {
  assemble, withBuiltins, type AssembleResult, type ExpandedLine, type Frame, type ImageSymbol, type LineNode, type SourceFile,
  type SourceProvider, type Span, type Statement,
} from '../../../asm/src/index.js';
import { decode, xenConstant, XEN_ELFNOTES, XEN_EMULATE_PREFIX, type DecodedInstruction } from '../../../isa/src/index.js';
import { effects, flowOf, NEXT, type Effects, type Flow } from './effects.js';
import { hasAnnotation, lineComment, lineOf } from './text.js';

const HYPERCALL_VECTOR = xenConstant('HYPERCALL_VECTOR')?.value ?? 0x82;

/** Programs larger than this are analysed up to it (the rest is left alone). */
export const MAX_INSTRUCTIONS = 100_000;
/** Bytes of data scanned for code addresses (address-taken labels). */
const MAX_SCAN_BYTES = 4 << 20;

/**
 * One instruction of the program. A program has one per instruction and keeps them until
 * the next change, so an Instr holds only what is its own (index, address, a bit or two)
 * and references to what it shares: the decoded instruction, its effects and flow (one
 * per distinct bytes, from the decode cache), its line's tree and macro/include frames
 * (the assembler's, shared by every line of a file or macro call). The rest is derived
 * from those on reading (a getter, no allocation). insn, fx and flow are fields, not
 * getters through the cache entry: the CFG and dataflow read them in their inner loops,
 * which ran 15-20% slower through getters (a field more per instruction costs 8 bytes).
 */
export class Instr implements ExpandedLine {
  constructor(
    readonly index: number,
    readonly address: number,
    readonly insn: DecodedInstruction,
    /** What it does to registers and memory. */
    readonly fx: Effects,
    /** How control leaves it (branch targets dropped when its line has an assembler error). */
    readonly flow: Flow,
    /** The expanded line's tree (a `times` line's, whose body is the instruction statement). */
    readonly node: LineNode,
    /** Its macro / include frames, outermost first (empty when written directly in a file). */
    readonly stack: readonly Frame[],
    private readonly bits: number,
  ) {}

  get length(): number {
    return this.insn.length;
  }

  /** The decoded mnemonic (canonical: `jne` for `jnz`). */
  get mnemonic(): string {
    return this.insn.form.mnemonic;
  }

  /** It enters Xen: int 0x82, or a call or jump into the hypercall page. */
  get hypercall(): boolean {
    return (this.bits & HYPERCALL) !== 0;
  }

  /** An assembler error is on its line: its operands and targets are not trusted. */
  get tainted(): boolean {
    return (this.bits & TAINTED) !== 0;
  }

  /** Xen's forced-emulation prefix is before it (XEN_CPUID): it traps, and Xen emulates it. */
  get emulated(): boolean {
    return (this.bits & EMULATED) !== 0;
  }

  /** Its expanded line (node and frames): the instruction itself holds both. */
  get line(): ExpandedLine {
    return this;
  }

  /** This instruction is the one these would make (so a new program may keep it). */
  same(index: number, address: number, insn: DecodedInstruction, fx: Effects, flow: Flow, node: LineNode, stack: readonly Frame[], bits: number): boolean {
    return this.node === node && this.index === index && this.address === address && this.insn === insn && this.fx === fx
      && this.flow === flow && this.bits === bits && sameFrames(this.stack, stack);
  }

  /** The instruction statement (the body of a `times` line). */
  get statement(): Statement {
    const st = this.node.statement!;
    return st.kind === 'times' ? st.body! : st;
  }

  /** Where the analysed file has it: the statement, or the outermost macro call / %include line. */
  get user(): Span {
    return this.stack.length === 0 ? this.statement : this.stack[0].span;
  }

  /** The statement's own place when it is in a macro body or an included file, else null. */
  get inner(): Span | null {
    return this.stack.length === 0 ? null : this.statement;
  }

  /** The statement is written directly in the analysed file (not from a macro, include or `times`). */
  get direct(): boolean {
    return this.stack.length === 0 && this.node.statement!.kind !== 'times';
  }
}

const HYPERCALL = 1;
const TAINTED = 2;
const EMULATED = 4;

/** The bytes before `address` are Xen's forced-emulation prefix. */
function forcedEmulation(read8: Program['read8'], address: number): boolean {
  const n = XEN_EMULATE_PREFIX.length;
  for (let i = 0; i < n; i++) if (read8(address - n + i) !== XEN_EMULATE_PREFIX[i]) return false;
  return true;
}

/** Frames that say the same (each line's frames, and their spans, are new objects on every assembly). */
function sameFrames(a: readonly Frame[], b: readonly Frame[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x.kind !== y.kind || x.name !== y.name || (x.span !== y.span && (x.span.file !== y.span.file || x.span.start !== y.span.start || x.span.end !== y.span.end))) return false;
  }
  return true;
}

export interface LabelRegion {
  name: string;
  start: number;
  end: number;
  /** The label's place (in the analysed file or an include). */
  span: Span;
}

export interface Program {
  result: AssembleResult;
  files: readonly SourceFile[];
  instrs: Instr[];
  /** Instruction index by address. */
  byAddress: AddressIndex;
  symbols: readonly ImageSymbol[];
  /** Symbols by name (made on first use). */
  readonly symbolByName: Map<string, ImageSymbol>;
  /** Labels of sections by address (several may share one). */
  labelsAt: Map<number, ImageSymbol[]>;
  /** Index of the entry instruction (_start, the image entry, or the first instruction); -1 when none. */
  entry: number;
  /** Address of the hypercall page (XEN_ELFNOTE_HYPERCALL_PAGE, else the label hypercall_page), or null. */
  hypercallPage: number | null;
  /** xen.inc was included: its names and macros can be used in fixes. */
  xenInc: boolean;
  /** Instructions whose address the program takes (data words, immediates): entered from unknown places. */
  addressTaken: Set<number>;
  /**
   * Jumps and calls through a table of code addresses (`jmp [table + eax*4]`), by index:
   * the instructions the table's words are (its words do not make them address-taken).
   */
  tables: ReadonlyMap<number, readonly number[]>;
  /** Labels annotated `; xenolab: page-table`: the memory from each to the next label. */
  pageTables: LabelRegion[];
  /** Labels annotated `; xenolab: ring3`: code run in ring 3. */
  ring3: LabelRegion[];
  /** More instructions than MAX_INSTRUCTIONS: the rest were not analysed. */
  truncated: boolean;
  /** Reads a 32-bit word of the image as initialised (0 in nobits sections); undefined outside it. */
  read32(address: number): number | undefined;
  read8(address: number): number | undefined;
}

/**
 * Expanded lines an editor assembly may read: the document is assembled on every change,
 * so a runaway %rep or macro must end in an error within a second or two, not minutes.
 */
export const EDITOR_MAX_LINES = 250_000;

/** The assembly the analyses (and the editor features over them) are built on. */
export function assembleFor(path: string, text: string, provider: SourceProvider, moveTreesInPlace = false): AssembleResult {
  return assemble({ path, text, provider: withBuiltins(provider), maxLines: EDITOR_MAX_LINES, moveTreesInPlace });
}

export function buildProgram(result: AssembleResult): Program {
  const files = result.files;
  const symbols = result.image.symbols;
  const symbolByName = lazyByName(symbols);
  const labelsAt = new Map<number, ImageSymbol[]>();
  for (const s of symbols) {
    if (s.section === null) continue;
    const list = labelsAt.get(s.value);
    if (list) list.push(s);
    else labelsAt.set(s.value, [s]);
  }

  const taintedLines = new Set<number>();
  for (const d of result.diagnostics) {
    if (d.severity !== 'error' || d.span.file !== 0 || !files[0]) continue;
    taintedLines.add(lineOf(files[0], d.span.start));
  }

  const hypercallPage = findHypercallPage(result, lastNamed(symbols, 'hypercall_page'));
  const inPage = (t: number | null) => t !== null && hypercallPage !== null && t >= hypercallPage && t < hypercallPage + 4096;
  // as many slots as the last program had (it is nearly always the same program): no regrowing
  const instrs: Instr[] = new Array<Instr>(Math.min(last.length, MAX_INSTRUCTIONS));
  // The last program's instructions up to an edit are this one's (the assembler keeps the
  // trees of the lines before a change): kept rather than made again, they are not new
  // objects for the collector to copy and promote on every change.
  const prev = last;
  const { read8, read32 } = imageReaders(result.image.sections);
  // prefix addresses of force-emulated instructions, and their instructions' indices
  const aliases: number[] = [];
  let count = 0;
  const dataRows: DataRow[] = [];
  let truncated = false;
  result.eachRow((row) => {
    let st = row.node.statement;
    if (!st || truncated) return;
    if (st.kind === 'times') {
      if (!st.body || st.body.kind !== 'instruction') {
        if (st.body && st.body.kind === 'data') dataRows.push({ address: row.address, bytes: row.data.subarray(row.from, row.to) });
        return;
      }
      st = st.body;
    } else if (st.kind !== 'instruction') {
      if (st.kind === 'data') dataRows.push({ address: row.address, bytes: row.data.subarray(row.from, row.to) });
      return;
    }
    if (row.to === row.from) return;
    // nodes and frames are immutable spans themselves: no copies
    const user = row.stack.length === 0 ? st : row.stack[0].span;
    const tainted = taintedLines.size > 0 && user.file === 0 && files[0] !== undefined && taintedLines.has(lineOf(files[0], user.start));
    for (let at = row.from; at < row.to;) {
      if (count >= MAX_INSTRUCTIONS) {
        truncated = true;
        return;
      }
      const address = (row.address + at - row.from) >>> 0;
      const d = at === row.from ? DECODED.get(row.data, at, row.to, address) : decodeOne(row.data, at, address);
      if (!d || at + d.insn.length > row.to) return;
      const insn = d.insn;
      const op = insn.operands[0];
      const flow = tainted ? untrusted(d.flow) : d.flow;
      const hypercall = insn.form.mnemonic === 'int'
        ? op?.type === 'imm' && op.value === HYPERCALL_VECTOR
        : (flow.kind === 'call' || flow.kind === 'jump') && inPage(flow.target);
      let bits = (hypercall ? HYPERCALL : 0) | (tainted ? TAINTED : 0);
      if (insn.form.mnemonic === 'cpuid' && forcedEmulation(read8, address)) {
        // the prefix is the cpuid's: a ud2 written for it is no instruction of its own
        const before = instrs[count - 1];
        if (count > 0 && before.address === address - XEN_EMULATE_PREFIX.length && before.mnemonic === 'ud2') count--;
        aliases.push(address - XEN_EMULATE_PREFIX.length, count);
        bits |= EMULATED;
      }
      const old = count < prev.length ? prev[count] : undefined;
      instrs[count] = old !== undefined && old.same(count, address, insn, d.fx, flow, row.node, row.stack, bits)
        ? old : new Instr(count, address, insn, d.fx, flow, row.node, row.stack, bits);
      count++;
      at += insn.length;
    }
  });
  instrs.length = count;
  last = instrs;
  DECODED.built(count);
  const byAddress = new AddressIndex(instrs, aliases);

  let entry = -1;
  const start = lastNamed(symbols, '_start');
  if (start && byAddress.has(start.value)) entry = byAddress.get(start.value)!;
  else if (byAddress.has(result.image.entry >>> 0)) entry = byAddress.get(result.image.entry >>> 0)!;
  else if (instrs.length) entry = 0;

  const sections = result.image.sections;

  const { tables, words } = findTables(instrs, byAddress, labelsAt, read32, inPage);
  const addressTaken = findAddressTaken(instrs, byAddress, labelsAt, sections, dataRows, hypercallPage, words);
  const xenInc = files.some((f) => /(^|[/\\])xen\.inc$/.test(f.path));
  const { pageTables, ring3 } = findAnnotations(result, symbolByName, symbols);

  return programOf({
    result, files, instrs, byAddress, symbols, labelsAt, entry, hypercallPage, xenInc, addressTaken, tables,
    pageTables, ring3, truncated, read8, read32,
  }, symbolByName);
}

// The program's closures are made outside buildProgram: a closure made in it would keep
// alive everything its inner functions capture (the last program's instructions, the
// data rows, ...) for as long as the program lives.

function programOf(f: Omit<Program, 'symbolByName'>, byName: () => Map<string, ImageSymbol>): Program {
  return {
    result: f.result, files: f.files, instrs: f.instrs, byAddress: f.byAddress, symbols: f.symbols, labelsAt: f.labelsAt,
    entry: f.entry, hypercallPage: f.hypercallPage, xenInc: f.xenInc, addressTaken: f.addressTaken, tables: f.tables, pageTables: f.pageTables,
    ring3: f.ring3, truncated: f.truncated, read32: f.read32, read8: f.read8,
    get symbolByName() {
      return byName();
    },
  };
}

/** Symbols by name, made when first asked for (fixes and annotations only; the last of a name wins). */
function lazyByName(symbols: readonly ImageSymbol[]): () => Map<string, ImageSymbol> {
  let byName: Map<string, ImageSymbol> | null = null;
  return () => {
    if (byName) return byName;
    byName = new Map();
    for (let i = 0; i < symbols.length; i++) byName.set(symbols[i].name, symbols[i]);
    return byName;
  };
}

/** Reads bytes and words of the image as initialised (0 in nobits sections); undefined outside it. */
function imageReaders(sections: AssembleResult['image']['sections']): Pick<Program, 'read8' | 'read32'> {
  const read8 = (address: number): number | undefined => {
    const a = address >>> 0;
    for (const s of sections) {
      if (a >= s.vaddr && a < s.vaddr + s.size) return s.kind === 'nobits' ? 0 : (s.bytes[a - s.vaddr] ?? 0);
    }
    return undefined;
  };
  const read32 = (address: number): number | undefined => {
    let v = 0;
    for (let i = 3; i >= 0; i--) {
      const b = read8(address + i);
      if (b === undefined) return undefined;
      v = (v << 8) | b;
    }
    return v >>> 0;
  };
  return { read8, read32 };
}

/**
 * Instruction indices by address (the first instruction at an address, when `times 0`
 * or the like put several there). Code is dense, so mostly a table over the span of the
 * addresses (no hashing, no map entries to build on every change); a map when the
 * instructions are spread far apart. `aliases` (address, index pairs) name more
 * addresses of instructions: where a prefix that is part of one starts.
 */
export class AddressIndex {
  private readonly base: number;
  private readonly table: Int32Array | null = null;
  private readonly map: Map<number, number> | null = null;

  constructor(instrs: readonly { address: number }[], aliases: readonly number[] = []) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < instrs.length; i++) {
      lo = Math.min(lo, instrs[i].address);
      hi = Math.max(hi, instrs[i].address);
    }
    for (let k = 0; k < aliases.length; k += 2) lo = Math.min(lo, aliases[k]);
    this.base = instrs.length ? lo : 0;
    const span = hi - lo + 1;
    if (span <= 16 * instrs.length + 65536) {
      const table = (this.table = new Int32Array(Math.max(0, span)).fill(-1));
      for (let i = 0; i < instrs.length; i++) {
        const k = instrs[i].address - lo;
        if (table[k] < 0) table[k] = i;
      }
      for (let k = 0; k < aliases.length; k += 2) if (table[aliases[k] - lo] < 0) table[aliases[k] - lo] = aliases[k + 1];
    } else {
      // keys relative to the first address stay small integers (0xC0000000 would be a boxed number)
      const map = (this.map = new Map<number, number>());
      for (let i = 0; i < instrs.length; i++) {
        const k = instrs[i].address - lo;
        if (!map.has(k)) map.set(k, i);
      }
      for (let k = 0; k < aliases.length; k += 2) if (!map.has(aliases[k] - lo)) map.set(aliases[k] - lo, aliases[k + 1]);
    }
  }

  get(address: number): number | undefined {
    const k = address - this.base;
    if (this.map) return this.map.get(k);
    const i = k >= 0 && k < this.table!.length ? this.table![k] : -1;
    return i >= 0 ? i : undefined;
  }

  has(address: number): boolean {
    return this.get(address) !== undefined;
  }
}

/** An instruction decoded, with what it does: what a program keeps of it besides its place. */
interface Decoded {
  insn: DecodedInstruction;
  fx: Effects;
  flow: Flow;
}

function decodeOne(bytes: Uint8Array, at: number, address: number): Decoded | null {
  const got = decode(bytes, at, address);
  if (!got.ok) return null;
  return { insn: got.insn, fx: effects(got.insn), flow: flowOf(got.insn) };
}

/**
 * Decoded instructions by their bytes, kept from one program to the next: the document
 * is analysed again on every change and nearly all of its instructions are the same
 * bytes as before, so decoding them again (and keeping a fresh copy alive until the next
 * change) is waste. Instructions with a relative operand decode to a target that depends
 * on where they are, so they are kept by bytes and address. Only rows that are exactly
 * one instruction are kept (nearly every row); a shared DecodedInstruction's `address`
 * is where it was first decoded, which is why programs read Instr.address instead.
 * Entries of places that moved are dropped when they outgrow the program (see built()).
 */
class DecodeCache {
  private readonly anywhere = new Map<number, CacheEntry>();
  private readonly placed = new Map<number, CacheEntry>();

  /**
   * A program of `count` instructions was built. Edits that move code leave entries for
   * places no program has any more: when they are over twice the program, all go (the
   * next program decodes afresh, once).
   */
  built(count: number): void {
    if (this.size > 2 * count + 1024) {
      this.anywhere.clear();
      this.placed.clear();
    }
  }

  /** Entries kept. */
  get size(): number {
    return this.anywhere.size + this.placed.size;
  }

  /** The instruction that is exactly bytes[from..to), at `address`; null when they are not one valid instruction. */
  get(bytes: Uint8Array, from: number, to: number, address: number): Decoded | null {
    const n = to - from;
    if (n === 0 || n > 15) return decodeOne(bytes, from, address);
    // The bytes as four little-endian words, held in the entry itself: comparing them
    // reads only the entry (an array of its own would be one more place in memory).
    const w = WORDS;
    w[0] = w[1] = w[2] = w[3] = 0;
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      h = Math.imul(h ^ b, 0x01000193);
      w[(i - from) >> 2] |= b << (((i - from) & 3) << 3);
    }
    // keys of 30 bits are small integers to the map (larger ones are boxed numbers)
    h &= 0x3fffffff;
    const hit = this.anywhere.get(h);
    if (hit && sameWords(hit, n, w)) return hit;
    const hp = (Math.imul(h ^ address, 0x01000193) ^ (address >>> 16)) & 0x3fffffff;
    const placed = this.placed.get(hp);
    if (placed && placed.address === address && sameWords(placed, n, w)) return placed;
    const d = decodeOne(bytes, from, address);
    if (!d || d.insn.length !== n) return d;
    const entry: CacheEntry = { insn: d.insn, fx: d.fx, flow: d.flow, n, w0: w[0], w1: w[1], w2: w[2], w3: w[3], address };
    if (d.insn.operands.some((o) => o.type === 'rel')) this.placed.set(hp, entry);
    else this.anywhere.set(h, entry);
    return entry;
  }
}

interface CacheEntry extends Decoded {
  /** Its length and bytes (four little-endian words, zero past the end). */
  n: number;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  address: number;
}

const WORDS = new Int32Array(4);

/** Whether an entry holds these `n` bytes (as words). */
function sameWords(e: CacheEntry, n: number, w: Int32Array): boolean {
  return e.n === n && e.w0 === w[0] && e.w1 === w[1] && e.w2 === w[2] && e.w3 === w[3];
}

const DECODED = new DecodeCache();

/** Decoded instructions kept for the next program (a bound the tests check). */
export function decodedKept(): number {
  return DECODED.size;
}

/** Where a line with an assembler error goes is not known: its branch targets are dropped. */
function untrusted(flow: Flow): Flow {
  if (flow.kind === 'branch') return NEXT;
  if (flow.kind === 'jump') return JUMP_UNKNOWN;
  if (flow.kind === 'call') return CALL_UNKNOWN;
  return flow;
}

// shared: not a new object for every instruction of a line with an error
const JUMP_UNKNOWN: Flow = Object.freeze({ kind: 'jump', target: null });
const CALL_UNKNOWN: Flow = Object.freeze({ kind: 'call', target: null });

/** The instructions of the last program built (the next one is sized for as many, and keeps those that are the same). */
let last: readonly Instr[] = [];

/** The last symbol of a name (as a map by name would have it). */
function lastNamed(symbols: readonly ImageSymbol[], name: string): ImageSymbol | undefined {
  for (let i = symbols.length - 1; i >= 0; i--) if (symbols[i].name === name) return symbols[i];
  return undefined;
}

function findHypercallPage(result: AssembleResult, s: ImageSymbol | undefined): number | null {
  const type = XEN_ELFNOTES.find((n) => n.name === 'XEN_ELFNOTE_HYPERCALL_PAGE')?.value;
  for (const n of result.image.notes) {
    if (n.name === 'Xen' && n.type === type && n.desc.length >= 4) {
      return (n.desc[0] | (n.desc[1] << 8) | (n.desc[2] << 16) | (n.desc[3] << 24)) >>> 0;
    }
  }
  return s && s.section !== null ? s.value >>> 0 : null;
}

/** Bytes a data line emitted, and where. */
interface DataRow {
  address: number;
  bytes: Uint8Array;
}

/** A table of code addresses has at most this many words. */
const MAX_TABLE_WORDS = 256;

/**
 * Jumps and calls through a table (`jmp [table + reg*4]`, the table a constant address):
 * its words from the first, while each is an instruction's address and no other label
 * starts there. Also the words' addresses.
 */
function findTables(
  instrs: readonly Instr[], byAddress: AddressIndex, labelsAt: Map<number, ImageSymbol[]>, read32: Program['read32'], inPage: (t: number) => boolean,
): { tables: Map<number, number[]>; words: Set<number> } {
  const tables = new Map<number, number[]>();
  const words = new Set<number>();
  for (let i = 0; i < instrs.length; i++) {
    const ins = instrs[i];
    const f = ins.flow;
    if ((f.kind !== 'jump' && f.kind !== 'call') || f.target !== null || ins.tainted) continue;
    const op = ins.insn.operands[0];
    if (op?.type !== 'mem' || op.base !== null || op.index === null || op.scale !== 4 || op.bits !== 32) continue;
    const start = op.disp >>> 0;
    const targets: number[] = [];
    for (let k = 0; k < MAX_TABLE_WORDS; k++) {
      const at = (start + 4 * k) >>> 0;
      if (k > 0 && labelsAt.has(at)) break;
      const v = read32(at);
      const t = v === undefined || inPage(v) ? undefined : byAddress.get(v);
      if (t === undefined) break;
      targets.push(t);
      words.add(at);
    }
    if (targets.length) tables.set(i, targets);
  }
  return { tables, words };
}

/**
 * Code labels whose address appears as a 32-bit immediate of an instruction or as a word
 * of data: they may be entered from anywhere (handlers, callbacks, vCPU entry points).
 */
function findAddressTaken(
  instrs: readonly Instr[], byAddress: AddressIndex, labelsAt: Map<number, ImageSymbol[]>,
  sections: AssembleResult['image']['sections'], dataRows: readonly DataRow[], hypercallPage: number | null, tableWords: ReadonlySet<number>,
): Set<number> {
  const targets = new Set<number>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of labelsAt.keys()) {
    if (!byAddress.has(a)) continue;
    if (hypercallPage !== null && a >= hypercallPage && a < hypercallPage + 4096) continue;
    targets.add(a);
    lo = Math.min(lo, a);
    hi = Math.max(hi, a);
  }
  const out = new Set<number>();
  if (targets.size === 0) return out;
  const hit = (v: number) => {
    if (v >= lo && v <= hi && targets.has(v)) out.add(byAddress.get(v)!);
  };
  for (let i = 0; i < instrs.length; i++) {
    const ins = instrs[i];
    if (ins.flow.kind !== 'next') continue;
    const ops = ins.insn.operands;
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k];
      if (op.type === 'imm' && op.bits === 32) hit(op.value >>> 0);
    }
  }
  let budget = MAX_SCAN_BYTES;
  // a table's words are its jump's or call's targets, not addresses taken
  const scan = (bytes: Uint8Array, address: number) => {
    const n = Math.min(bytes.length - 3, budget);
    budget -= Math.max(0, n);
    for (let i = 0; i < n; i++) {
      if (tableWords.size !== 0 && tableWords.has((address + i) >>> 0)) continue;
      hit((bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0);
    }
  };
  for (const s of sections) if (s.kind === 'progbits' && !s.exec) scan(s.bytes, s.vaddr);
  for (const b of dataRows) scan(b.bytes, b.address);
  return out;
}

/** Labels annotated on their own line with `; xenolab: page-table` or `; xenolab: ring3`. */
function findAnnotations(result: AssembleResult, byName: () => Map<string, ImageSymbol>, symbols: readonly ImageSymbol[]): { pageTables: LabelRegion[]; ring3: LabelRegion[] } {
  const pageTables: LabelRegion[] = [];
  const ring3: LabelRegion[] = [];
  // label addresses in order, made only when a page-table annotation needs the next label
  let sortedLabels: number[] | null = null;
  const sectionEnd = (a: number) => {
    for (const s of result.image.sections) if (a >= s.vaddr && a < s.vaddr + s.size) return s.vaddr + s.size;
    return a + 4096;
  };
  for (const [fileId, lines] of result.trees) {
    const file = result.files[fileId];
    // most files have no annotation at all: then no label needs its comment read
    if (!file || file.path.startsWith('<builtin>') || !file.text.includes('xenolab:')) continue;
    let scope = '';
    for (const node of lines) {
      const label = node.label;
      if (!label) continue;
      let name = label.name;
      if (name.startsWith('.') && !name.startsWith('..')) name = scope + name;
      else if (!name.startsWith('..@')) scope = name;
      const comment = lineComment(file, lineOf(file, label.start));
      if (!comment.includes('xenolab:')) continue;
      const sym = byName().get(name);
      if (!sym || sym.section === null) continue;
      const start = sym.value >>> 0;
      const span = { file: label.file, start: label.start, end: label.end };
      if (hasAnnotation(comment, 'page-table')) {
        // to the next label after it, within its section
        let end = sectionEnd(start);
        let lo = 0;
        const sorted = (sortedLabels ??= symbols.filter((s) => s.section !== null).map((s) => s.value >>> 0).sort((a, b) => a - b));
        let hi = sorted.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (sorted[mid] <= start) lo = mid + 1;
          else hi = mid;
        }
        if (lo < sorted.length) end = Math.min(end, sorted[lo]);
        pageTables.push({ name, start, end: Math.max(end, start + 1), span });
      }
      if (hasAnnotation(comment, 'ring3')) ring3.push({ name, start, end: start, span });
    }
  }
  return { pageTables, ring3 };
}
