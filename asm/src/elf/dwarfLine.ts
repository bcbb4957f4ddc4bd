// DWARF `.debug_line`: encoder for our line table and a decoder running the
// line-number state machine (DWARF 2-5, so tables made by nasm/gas/gcc read too).
//
// We emit version 4: it is the last version whose header keeps the simple inline
// directory/file string lists (v5 switched to form-described entries and usually
// .debug_line_str), it is read by every binutils/gdb of the last decade, and its
// only addition over v3 (maximum_operations_per_instruction) is a constant 1 on x86.
//
// Duplicate addresses: the LAST row for an address wins, in both the encoder and the
// decoder (a zero-size directive followed by the instruction really at that address
// should map to the instruction).

import type { LineRow } from '../image.js';
import { ByteReader, ByteWriter, type DecodeError, catchDecode, stringAt } from './bytes.js';

export type { DecodeError } from './bytes.js';

/** A half-open address range [start, end), e.g. one section. */
export interface AddressRange {
  start: number;
  end: number;
}

export interface DebugLineOptions {
  /** End (exclusive) of the last instruction: where the final sequence ends. */
  endAddress: number;
  /**
   * Contiguous ranges such as sections. Rows lying in different ranges go into
   * separate sequences, each ending at its range's end, so a gap between sections is
   * not attributed to the last line before it.
   */
  ranges?: readonly AddressRange[];
}

export interface LineSequence {
  start: number;
  end: number;
}

export interface LineTable {
  kind: 'lines';
  /** Sorted by address, one row per address. */
  rows: LineRow[];
  /** Address ranges covered by the sequences that had rows. */
  sequences: LineSequence[];
}

/** String sections a DWARF 5 table may point into. */
export interface DebugLineStrings {
  /** `.debug_line_str` (DW_FORM_line_strp). */
  lineStr?: Uint8Array;
  /** `.debug_str` (DW_FORM_strp). */
  str?: Uint8Array;
}

const VERSION = 4;
const LINE_BASE = -5;
const LINE_RANGE = 14;
const OPCODE_BASE = 13;
/** Operand counts of standard opcodes 1..12 (DWARF 3+). */
const STANDARD_OPCODE_LENGTHS = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

const enum Op {
  Copy = 1,
  AdvancePc = 2,
  AdvanceLine = 3,
  SetFile = 4,
  SetColumn = 5,
  NegateStmt = 6,
  BasicBlock = 7,
  ConstAddPc = 8,
  FixedAdvancePc = 9,
  SetPrologueEnd = 10,
  SetEpilogueBegin = 11,
  SetIsa = 12,
}

const enum ExtOp {
  EndSequence = 1,
  SetAddress = 2,
  DefineFile = 3,
  SetDiscriminator = 4,
}

// ---------------------------------------------------------------- encoding

interface FileTable {
  dirs: string[];
  files: { name: string; dir: number }[];
  /** Path -> 1-based file number. */
  index: Map<string, number>;
}

/** Splits at the last '/', or at the last '\' when the path has no '/'. */
export function splitPath(path: string): { dir: string; base: string } {
  const slash = path.includes('/') ? path.lastIndexOf('/') : path.lastIndexOf('\\');
  if (slash < 0 || slash === path.length - 1) return { dir: '', base: path };
  const dir = slash === 0 ? path[0] : path.slice(0, slash);
  return { dir, base: path.slice(slash + 1) };
}

/** Inverse of splitPath for the separators it produces. */
export function joinPath(dir: string, base: string): string {
  if (dir === '' || base.startsWith('/')) return base;
  if (dir.endsWith('/') || dir.endsWith('\\')) return dir + base;
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return dir + sep + base;
}

function buildFileTable(rows: readonly LineRow[]): FileTable {
  const table: FileTable = { dirs: [], files: [], index: new Map() };
  const dirIndex = new Map<string, number>();
  for (const { file } of rows) {
    if (table.index.has(file)) continue;
    const { dir, base } = splitPath(file);
    let d = 0;
    if (dir !== '') {
      d = dirIndex.get(dir) ?? table.dirs.push(dir);
      dirIndex.set(dir, d);
    }
    table.files.push({ name: base, dir: d });
    table.index.set(file, table.files.length);
  }
  return table;
}

function checkRow(row: LineRow): void {
  const ok =
    Number.isInteger(row.address) && row.address >= 0 && row.address <= 0xffffffff &&
    Number.isInteger(row.line) && row.line >= 0 &&
    Number.isInteger(row.column) && row.column >= 0 &&
    row.file !== '' && !row.file.includes('\0');
  if (!ok) throw new RangeError(`invalid line row ${JSON.stringify(row)}`);
}

/** Stable sort by address, then keep the last row of each address. */
export function normalizeRows(rows: readonly LineRow[]): LineRow[] {
  const sorted = rows.map((row, i) => ({ row, i }));
  sorted.sort((a, b) => a.row.address - b.row.address || a.i - b.i);
  const out: LineRow[] = [];
  for (const { row } of sorted) {
    if (out.length > 0 && out[out.length - 1].address === row.address) out[out.length - 1] = row;
    else out.push(row);
  }
  return out;
}

interface Sequence {
  rows: LineRow[];
  end: number;
}

function rangeIndex(ranges: readonly AddressRange[], address: number): number {
  return ranges.findIndex((r) => r.start <= address && address < r.end);
}

function splitSequences(rows: LineRow[], opts: DebugLineOptions): Sequence[] {
  const ranges = opts.ranges ?? [];
  const groups: { rows: LineRow[]; range: number }[] = [];
  for (const row of rows) {
    const range = rangeIndex(ranges, row.address);
    const last = groups[groups.length - 1];
    if (last && last.range === range) last.rows.push(row);
    else groups.push({ rows: [row], range });
  }
  return groups.map((g, i) => {
    const next = groups[i + 1];
    const end = next === undefined ? opts.endAddress : g.range >= 0 ? ranges[g.range].end : next.rows[0].address;
    return { rows: g.rows, end };
  });
}

/** Encodes rows as one DWARF 4 line-number program unit. Throws RangeError on invalid rows. */
export function encodeDebugLine(rows: readonly LineRow[], opts: DebugLineOptions): Uint8Array {
  rows.forEach(checkRow);
  const sorted = normalizeRows(rows);
  const last = sorted[sorted.length - 1];
  if (last && !(opts.endAddress >= last.address && opts.endAddress <= 0x1_0000_0000)) {
    throw new RangeError(`endAddress 0x${opts.endAddress.toString(16)} is before the last row`);
  }
  const table = buildFileTable(sorted);
  const program = new ByteWriter();
  for (const seq of splitSequences(sorted, opts)) encodeSequence(program, seq, table);
  return wrapUnit(encodeHeader(table), program.finish());
}

function encodeHeader(table: FileTable): Uint8Array {
  const w = new ByteWriter();
  w.u8(1); // minimum_instruction_length: x86 instructions are byte-granular
  w.u8(1); // maximum_operations_per_instruction (v4)
  w.u8(1); // default_is_stmt
  w.u8(LINE_BASE & 0xff).u8(LINE_RANGE).u8(OPCODE_BASE);
  for (const n of STANDARD_OPCODE_LENGTHS) w.u8(n);
  for (const d of table.dirs) w.cstring(d);
  w.u8(0);
  for (const f of table.files) w.cstring(f.name).uleb(f.dir).uleb(0).uleb(0);
  w.u8(0);
  return w.finish();
}

function wrapUnit(header: Uint8Array, program: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  w.u32(2 + 4 + header.length + program.length); // unit_length: everything after itself
  w.u16(VERSION);
  w.u32(header.length);
  return w.bytes(header).bytes(program).finish();
}

interface EncState {
  address: number;
  file: number;
  line: number;
  column: number;
}

function encodeSequence(w: ByteWriter, seq: Sequence, table: FileTable): void {
  const first = seq.rows[0];
  w.u8(0).uleb(5).u8(ExtOp.SetAddress).u32(first.address);
  const st: EncState = { address: first.address, file: 1, line: 1, column: 0 };
  for (const row of seq.rows) encodeRow(w, st, row, table.index.get(row.file) ?? 1);
  if (seq.end > st.address) w.u8(Op.AdvancePc).uleb(seq.end - st.address);
  w.u8(0).uleb(1).u8(ExtOp.EndSequence);
}

function special(lineDelta: number, addrDelta: number): number {
  return lineDelta - LINE_BASE + LINE_RANGE * addrDelta + OPCODE_BASE;
}

const CONST_ADD_PC = Math.floor((255 - OPCODE_BASE) / LINE_RANGE);

function encodeRow(w: ByteWriter, st: EncState, row: LineRow, file: number): void {
  if (file !== st.file) w.u8(Op.SetFile).uleb(file);
  if (row.column !== st.column) w.u8(Op.SetColumn).uleb(row.column);
  let lineDelta = row.line - st.line;
  let addrDelta = row.address - st.address;
  if (lineDelta < LINE_BASE || lineDelta >= LINE_BASE + LINE_RANGE) {
    w.u8(Op.AdvanceLine).sleb(lineDelta);
    lineDelta = 0;
  }
  if (special(lineDelta, addrDelta) > 255 && special(lineDelta, addrDelta - CONST_ADD_PC) <= 255) {
    w.u8(Op.ConstAddPc);
    addrDelta -= CONST_ADD_PC;
  }
  if (special(lineDelta, addrDelta) > 255) {
    w.u8(Op.AdvancePc).uleb(addrDelta);
    addrDelta = 0;
  }
  if (lineDelta === 0 && addrDelta === 0) w.u8(Op.Copy);
  else w.u8(special(lineDelta, addrDelta));
  Object.assign(st, { address: row.address, file, line: row.line, column: row.column });
}

// ---------------------------------------------------------------- decoding

interface UnitHeader {
  version: number;
  minInst: number;
  maxOps: number;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  opcodeLengths: number[];
  /** File paths by file number (index 0 unused before v5). */
  files: (string | undefined)[];
  dirs: string[];
  addressSize: number;
  programStart: number;
  unitEnd: number;
}

/**
 * Decodes every unit of a `.debug_line` section into rows (sorted, last row per
 * address kept). `base` is the section's file offset, added to error offsets.
 * Never throws on malformed input; runtime is linear in the input size.
 */
export function decodeDebugLine(bytes: Uint8Array, strings: DebugLineStrings = {}, base = 0): LineTable | DecodeError {
  return catchDecode(() => {
    const rows: LineRow[] = [];
    const sequences: LineSequence[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      const header = readUnitHeader(new ByteReader(bytes, base, pos), strings);
      runProgram(new ByteReader(bytes.subarray(0, header.unitEnd), base, header.programStart), header, rows, sequences);
      pos = header.unitEnd;
    }
    sequences.sort((a, b) => a.start - b.start);
    return { kind: 'lines', rows: normalizeRows(rows), sequences };
  });
}

function readUnitLength(r: ByteReader): { length: number; offsetSize: number } {
  const len32 = r.u32('unit_length');
  if (len32 === 0xffffffff) return { length: r.u64('unit_length'), offsetSize: 8 };
  if (len32 >= 0xfffffff0) r.fail(`reserved unit_length 0x${len32.toString(16)}`, r.pos - 4);
  return { length: len32, offsetSize: 4 };
}

function readUnitHeader(outer: ByteReader, strings: DebugLineStrings): UnitHeader {
  const unitStart = outer.pos;
  const { length, offsetSize } = readUnitLength(outer);
  if (length > outer.remaining) outer.fail(`line unit length ${length} exceeds the ${outer.remaining} bytes left`, unitStart);
  const unitEnd = outer.pos + length;
  const r = new ByteReader(outer.data.subarray(0, unitEnd), outer.base, outer.pos);
  const version = r.u16('line table version');
  if (version < 2 || version > 5) r.fail(`unsupported line table version ${version}`, r.pos - 2);
  let addressSize = 4;
  if (version >= 5) {
    addressSize = r.u8('address_size');
    r.u8('segment_selector_size');
  }
  const headerLength = r.uN(offsetSize, 'header_length');
  if (headerLength > r.remaining) r.fail(`header_length ${headerLength} runs past the unit`, r.pos - offsetSize);
  const programStart = r.pos + headerLength;
  const h = readHeaderFields(r, version);
  const tables = version >= 5 ? readV5Tables(r, offsetSize, strings) : readOldTables(r);
  if (r.pos > programStart) r.fail('line table header is longer than header_length', programStart);
  return { ...h, ...tables, version, addressSize, programStart, unitEnd };
}

function readHeaderFields(r: ByteReader, version: number) {
  const minInst = r.u8('minimum_instruction_length');
  const maxOps = version >= 4 ? r.u8('maximum_operations_per_instruction') : 1;
  r.u8('default_is_stmt');
  const lineBase = r.i8('line_base');
  const lineRange = r.u8('line_range');
  if (lineRange === 0) r.fail('line_range is 0', r.pos - 1);
  if (maxOps === 0) r.fail('maximum_operations_per_instruction is 0');
  const opcodeBase = r.u8('opcode_base');
  if (opcodeBase === 0) r.fail('opcode_base is 0', r.pos - 1);
  const opcodeLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) opcodeLengths.push(r.u8('standard_opcode_lengths'));
  return { minInst, maxOps, lineBase, lineRange, opcodeBase, opcodeLengths };
}

/** DWARF 2-4: NUL-terminated directory list, then (name, dir, mtime, length) file entries. */
function readOldTables(r: ByteReader): { dirs: string[]; files: (string | undefined)[] } {
  const dirs: string[] = [];
  for (let d = r.cstring('include_directory'); d !== ''; d = r.cstring('include_directory')) dirs.push(d);
  const files: (string | undefined)[] = [undefined];
  for (let name = r.cstring('file name'); name !== ''; name = r.cstring('file name')) {
    files.push(oldFilePath(r, dirs, name));
  }
  return { dirs, files };
}

function oldFilePath(r: ByteReader, dirs: string[], name: string): string {
  const dir = r.uleb('file directory index');
  r.uleb('file mtime');
  r.uleb('file length');
  if (dir > dirs.length) r.fail(`file ${JSON.stringify(name)} uses directory ${dir} of ${dirs.length}`);
  return dir === 0 ? name : joinPath(dirs[dir - 1], name);
}

const enum Lnct {
  Path = 1,
  DirectoryIndex = 2,
}

const enum Form {
  Block = 0x09,
  Data1 = 0x0b,
  Data2 = 0x05,
  Data4 = 0x06,
  Data8 = 0x07,
  Data16 = 0x1e,
  LineStrp = 0x1f,
  Sdata = 0x0d,
  String = 0x08,
  Strp = 0x0e,
  Udata = 0x0f,
}

type EntryFormat = { content: number; form: number }[];
type EntryValue = string | number | undefined;

/** DWARF 5: entry formats (content type, form) followed by form-encoded entries. */
function readV5Tables(r: ByteReader, offsetSize: number, strings: DebugLineStrings) {
  const dirEntries = readV5Entries(r, offsetSize, strings, 'directory');
  const dirs = dirEntries.map((e, i) => (typeof e.path === 'string' ? e.path : r.fail(`directory ${i} has no path`)));
  const fileEntries = readV5Entries(r, offsetSize, strings, 'file');
  const files = fileEntries.map((e, i): string => {
    if (typeof e.path !== 'string') return r.fail(`file ${i} has no path`);
    const dir = typeof e.dir === 'number' ? e.dir : 0;
    if (dir >= dirs.length && dir !== 0) r.fail(`file ${i} uses directory ${dir} of ${dirs.length}`);
    // Directory 0 is the compilation directory: leave the name relative, as v2-4 do.
    return dir === 0 ? e.path : joinPath(dirs[dir], e.path);
  });
  return { dirs, files };
}

function readV5Entries(r: ByteReader, offsetSize: number, strings: DebugLineStrings, what: string) {
  const formatCount = r.u8(`${what} entry format count`);
  const format: EntryFormat = [];
  for (let i = 0; i < formatCount; i++) format.push({ content: r.uleb('content type'), form: r.uleb('form') });
  const at = r.pos;
  const count = r.uleb(`${what} count`);
  // Every form takes at least one byte, so a count above the bytes left is corrupt (and would spin).
  if (count > 0 && (format.length === 0 || count > r.remaining)) r.fail(`absurd ${what} count ${count}`, at);
  const entries: { path?: string; dir?: number }[] = [];
  for (let i = 0; i < count; i++) {
    const entry: { path?: string; dir?: number } = {};
    for (const f of format) {
      const v = readForm(r, f.form, offsetSize, strings);
      if (f.content === Lnct.Path && typeof v === 'string') entry.path = v;
      if (f.content === Lnct.DirectoryIndex && typeof v === 'number') entry.dir = v;
    }
    entries.push(entry);
  }
  return entries;
}

function readForm(r: ByteReader, form: number, offsetSize: number, strings: DebugLineStrings): EntryValue {
  switch (form) {
    case Form.String: return r.cstring('path');
    case Form.LineStrp: return indirectString(r, offsetSize, strings.lineStr, '.debug_line_str');
    case Form.Strp: return indirectString(r, offsetSize, strings.str, '.debug_str');
    case Form.Udata: return r.uleb('udata');
    case Form.Sdata: return r.sleb('sdata');
    case Form.Data1: return r.u8('data1');
    case Form.Data2: return r.u16('data2');
    case Form.Data4: return r.u32('data4');
    case Form.Data8: return r.u64('data8');
    case Form.Data16: return void r.skip(16, 'data16');
    case Form.Block: return void r.skip(r.uleb('block length'), 'block');
    default: return r.fail(`unsupported form 0x${form.toString(16)} in line table header`);
  }
}

function indirectString(r: ByteReader, offsetSize: number, table: Uint8Array | undefined, name: string): string {
  const at = r.pos;
  const offset = r.uN(offsetSize, 'string offset');
  if (!table) return r.fail(`line table refers to ${name}, which is absent`, at);
  const text = stringAt(table, offset);
  return text ?? r.fail(`bad ${name} offset ${offset}`, at);
}

interface Machine {
  address: number;
  opIndex: number;
  file: number;
  line: number;
  column: number;
  seqRows: number;
  seqStart: number;
  /** Addresses wrap at 2^(8 * address size). */
  addrMod: number;
}

function newMachine(addressSize: number): Machine {
  const m = { addrMod: 2 ** (8 * Math.min(addressSize, 8)) } as Machine;
  resetMachine(m);
  return m;
}

function resetMachine(m: Machine): void {
  Object.assign(m, { address: 0, opIndex: 0, file: 1, line: 1, column: 0, seqRows: 0, seqStart: 0 });
}

function runProgram(r: ByteReader, h: UnitHeader, rows: LineRow[], sequences: LineSequence[]): void {
  const m = newMachine(h.addressSize);
  const emit = (): void => {
    const opAt = r.pos - 1;
    const file = h.files[m.file];
    if (file === undefined) r.fail(`row uses file ${m.file}, which is not in the file table`, opAt);
    if (m.line < 0) r.fail(`row has negative line ${m.line}`, opAt);
    if (m.seqRows++ === 0) m.seqStart = m.address;
    rows.push({ address: m.address, file, line: m.line, column: m.column });
  };
  const advance = (opAdvance: number): void => {
    const total = m.opIndex + opAdvance;
    m.address = (m.address + h.minInst * Math.floor(total / h.maxOps)) % m.addrMod;
    m.opIndex = total % h.maxOps;
  };
  while (r.remaining > 0) {
    const op = r.u8('opcode');
    if (op >= h.opcodeBase) {
      const adj = op - h.opcodeBase;
      advance(Math.floor(adj / h.lineRange));
      m.line += h.lineBase + (adj % h.lineRange);
      emit();
    } else if (op === 0) {
      runExtended(r, h, m, sequences);
    } else {
      runStandard(r, h, m, op, emit, advance);
    }
  }
}

function runExtended(r: ByteReader, h: UnitHeader, m: Machine, sequences: LineSequence[]): void {
  const at = r.pos - 1;
  const len = r.uleb('extended opcode length');
  if (len === 0 || len > r.remaining) r.fail(`bad extended opcode length ${len}`, at);
  const end = r.pos + len;
  const sub = r.u8('extended opcode');
  switch (sub) {
    case ExtOp.EndSequence:
      if (m.seqRows > 0) sequences.push({ start: m.seqStart, end: m.address });
      resetMachine(m);
      break;
    case ExtOp.SetAddress:
      m.address = r.uN(len - 1, 'address');
      m.addrMod = 2 ** (8 * Math.min(len - 1, 8));
      m.opIndex = 0;
      break;
    case ExtOp.DefineFile: {
      const name = r.cstring('file name');
      h.files.push(oldFilePath(r, h.dirs, name));
      break;
    }
    default:
      break; // set_discriminator and vendor opcodes: skipped via the length
  }
  if (r.pos > end) r.fail(`extended opcode ${sub} overruns its length ${len}`, at);
  r.pos = end;
}

function runStandard(
  r: ByteReader, h: UnitHeader, m: Machine, op: number, emit: () => void, advance: (n: number) => void,
): void {
  switch (op) {
    case Op.Copy: emit(); break;
    case Op.AdvancePc: advance(r.uleb('advance_pc operand')); break;
    case Op.AdvanceLine: m.line += r.sleb('advance_line operand'); break;
    case Op.SetFile: m.file = r.uleb('set_file operand'); break;
    case Op.SetColumn: m.column = r.uleb('set_column operand'); break;
    case Op.ConstAddPc: advance(Math.floor((255 - h.opcodeBase) / h.lineRange)); break;
    case Op.FixedAdvancePc:
      m.address = (m.address + r.u16('fixed_advance_pc operand')) % m.addrMod;
      m.opIndex = 0;
      break;
    case Op.NegateStmt: case Op.BasicBlock: case Op.SetPrologueEnd: case Op.SetEpilogueBegin: break;
    case Op.SetIsa: r.uleb('set_isa operand'); break;
    default:
      // Opcodes this decoder does not know: the header says how many ULEB operands to skip.
      for (let i = 0; i < h.opcodeLengths[op - 1]; i++) r.uleb('operand');
  }
}
