// ELF32 little-endian i386 executables: the writer turns an Image into a file a PV
// domain builder can load and binutils/gdb can inspect; the reader parses such files
// (ours or ld's) back, returning a DecodeError with the byte offset on bad input.

import type { Image, ImageNote, ImageSection, ImageSymbol, LineRow } from '../image.js';
import { ByteReader, ByteWriter, type DecodeError, DecodeFailure, catchDecode, isDecodeError, stringAt } from './bytes.js';
import { encodeCompileUnit } from './dwarfInfo.js';
import { type AddressRange, decodeDebugLine, encodeDebugLine, normalizeRows } from './dwarfLine.js';
import { decodeNotes, encodeNotes } from './notes.js';

export type ElfError = DecodeError;
export { isDecodeError as isElfError } from './bytes.js';

export const ET_EXEC = 2;
export const EM_386 = 3;

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
const SHT_INIT_ARRAY = 14;
const SHT_FINI_ARRAY = 15;
const SHT_PREINIT_ARRAY = 16;

export const SHF_WRITE = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;
const SHF_COMPRESSED = 0x800;

const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_ABS = 0xfff1;
const SHN_XINDEX = 0xffff;
const PN_XNUM = 0xffff;

const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STT_NOTYPE = 0;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_SECTION = 3;
const STT_FILE = 4;

const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;
const PAGE = 4096;

export interface ElfProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
  align: number;
}

export interface ElfSectionHeader {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfFile {
  kind: 'elf';
  /** e_type (ET_EXEC = 2). */
  type: number;
  /** e_machine (EM_386 = 3). */
  machine: number;
  entry: number;
  programHeaders: ElfProgramHeader[];
  /** Every section header, index 0 (SHT_NULL) included, so symbol st_shndx values index it. */
  sectionHeaders: ElfSectionHeader[];
  /** Content sections (progbits, nobits, notes), without the symbol, string and debug sections. */
  sections: ImageSection[];
  /** Defined symbols in symbol-table order; section and file symbols are left out. */
  symbols: ImageSymbol[];
  /** From the PT_NOTE segments, or from the SHT_NOTE sections when there is no PT_NOTE. */
  notes: ImageNote[];
  /** Decoded `.debug_line`, or null when the file has none. */
  lines: LineRow[] | null;
}

export interface ElfWriteOptions {
  /**
   * p_paddr = p_vaddr - physOffset. For a Xen PV kernel pass VIRT_BASE - PADDR_OFFSET
   * (libelf computes virt = paddr + VIRT_BASE - PADDR_OFFSET). Default 0: paddr = vaddr.
   */
  physOffset?: number;
  /** DW_AT_comp_dir of the compile unit (tools prefix relative source paths with it). */
  compDir?: string;
  /** DW_AT_producer; default "xenolab". */
  producer?: string;
}

/** The Image view of a parsed file (lines: [] when there is no line table). */
export function elfToImage(file: ElfFile): Image {
  return {
    entry: file.entry,
    sections: file.sections,
    symbols: file.symbols,
    lines: file.lines ?? [],
    notes: file.notes,
  };
}

export function isNoteSection(name: string): boolean {
  return name.startsWith('.note');
}

// ================================================================= writer

/** One section header to emit, with its contents; `offset` is filled in by layout. */
interface OutSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  bytes: Uint8Array;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
  offset: number;
  nameOffset: number;
  /** Alloc sections are placed by their segment. */
  image?: ImageSection;
}

interface Segment {
  vaddr: number;
  memEnd: number;
  fileEnd: number;
  flags: number;
  sections: ImageSection[];
  offset: number;
}

/**
 * Writes an ET_EXEC/EM_386 ELF32 file. Throws RangeError when the image is
 * inconsistent (progbits size != bytes.length, bad alignment, a symbol naming an
 * unknown section, names containing NUL, values out of 32-bit range).
 */
export function writeElf32(image: Image, options: ElfWriteOptions = {}): Uint8Array {
  checkU32(image.entry, 'entry point');
  const sections = withNoteSection(image);
  sections.forEach(checkSection);

  const out: OutSection[] = [outSection('', SHT_NULL, new Uint8Array(0))];
  for (const s of sections) out.push(imageOutSection(s));
  out.push(...debugSections(image.lines, sections, options));
  addSymbolTables(out, image.symbols, sections);
  const shstrtab = addSectionNames(out);
  if (out.length >= SHN_LORESERVE) throw new RangeError(`${out.length} sections need extended numbering, which is not written`);

  const segments = planSegments(sections);
  const notes = out.filter((s) => s.type === SHT_NOTE);
  const phnum = segments.length + notes.length;
  const shoff = layout(out, segments, EHDR_SIZE + PHDR_SIZE * phnum);

  const file = new Uint8Array(shoff + SHDR_SIZE * out.length);
  const view = new DataView(file.buffer);
  writeHeader(view, image.entry, phnum, shoff, out.length, shstrtab);
  writeProgramHeaders(view, segments, notes, options.physOffset ?? 0);
  out.forEach((s, i) => {
    if (s.type !== SHT_NOBITS) file.set(s.bytes, s.offset);
    writeSectionHeader(view, shoff + i * SHDR_SIZE, s);
  });
  return file;
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} ${value} is not a 32-bit unsigned integer`);
  }
}

function checkName(name: string, what: string): void {
  if (name.includes('\0')) throw new RangeError(`${what} name ${JSON.stringify(name)} contains NUL`);
}

function checkSection(s: ImageSection): void {
  checkName(s.name, 'section');
  checkU32(s.vaddr, `section ${s.name} address`);
  checkU32(s.size, `section ${s.name} size`);
  if (s.vaddr + s.size > 0x1_0000_0000) throw new RangeError(`section ${s.name} wraps past 4 GiB`);
  const expected = s.kind === 'nobits' ? 0 : s.size;
  if (s.bytes.length !== expected) {
    throw new RangeError(`section ${s.name}: ${s.kind} of size ${s.size} has ${s.bytes.length} bytes`);
  }
  if (!Number.isInteger(s.align) || s.align < 1 || (s.align & (s.align - 1)) !== 0 || s.align > 0x8000_0000) {
    throw new RangeError(`section ${s.name}: alignment ${s.align} is not a power of two`);
  }
}

/** `.note*` sections are the source of truth; an image with notes but no such section gets a non-alloc `.note`. */
function withNoteSection(image: Image): ImageSection[] {
  if (image.notes.length === 0 || image.sections.some((s) => isNoteSection(s.name))) return image.sections;
  const bytes = encodeNotes(image.notes);
  const note: ImageSection = {
    name: '.note', kind: 'progbits', vaddr: 0, size: bytes.length, bytes,
    align: 4, write: false, exec: false, alloc: false,
  };
  return [...image.sections, note];
}

function outSection(name: string, type: number, bytes: Uint8Array, extra: Partial<OutSection> = {}): OutSection {
  return {
    name, type, flags: 0, addr: 0, bytes, size: bytes.length,
    link: 0, info: 0, align: 1, entsize: 0, offset: 0, nameOffset: 0, ...extra,
  };
}

function imageOutSection(s: ImageSection): OutSection {
  const type = s.kind === 'nobits' ? SHT_NOBITS : isNoteSection(s.name) ? SHT_NOTE : SHT_PROGBITS;
  const flags = (s.alloc ? SHF_ALLOC : 0) | (s.write ? SHF_WRITE : 0) | (s.exec ? SHF_EXECINSTR : 0);
  // The spec wants sh_addr 0 for sections that are not part of the memory image.
  return outSection(s.name, type, s.bytes, { flags, addr: s.alloc ? s.vaddr : 0, size: s.size, align: s.align, image: s });
}

function containingRange(ranges: AddressRange[], address: number): AddressRange | undefined {
  return ranges.find((r) => r.start <= address && address < r.end);
}

/** .debug_line plus the one-unit .debug_info/.debug_abbrev that addr2line and gdb need to find it. */
function debugSections(lines: readonly LineRow[], sections: ImageSection[], options: ElfWriteOptions): OutSection[] {
  if (lines.length === 0) return [];
  const rows = normalizeRows(lines);
  const ranges = sections.filter((s) => s.alloc && s.size > 0).map((s) => ({ start: s.vaddr, end: s.vaddr + s.size }));
  const last = rows[rows.length - 1];
  const endAddress = containingRange(ranges, last.address)?.end ?? last.address;
  const line = encodeDebugLine(rows, { endAddress, ranges });
  const { info, abbrev } = encodeCompileUnit({
    producer: options.producer ?? 'xenolab',
    name: rows[0].file,
    compDir: options.compDir,
    lowPc: rows[0].address,
    highPc: endAddress,
    stmtList: 0,
  });
  return [
    outSection('.debug_abbrev', SHT_PROGBITS, abbrev),
    outSection('.debug_info', SHT_PROGBITS, info),
    outSection('.debug_line', SHT_PROGBITS, line),
  ];
}

/** Deduplicating string table builder (offset 0 is the empty string). */
class StringTable {
  private readonly w = new ByteWriter().u8(0);
  private readonly offsets = new Map<string, number>([['', 0]]);

  add(text: string): number {
    let at = this.offsets.get(text);
    if (at === undefined) {
      at = this.w.length;
      this.w.cstring(text);
      this.offsets.set(text, at);
    }
    return at;
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

const SYMBOL_TYPES: Record<ImageSymbol['kind'], number> = { func: STT_FUNC, object: STT_OBJECT, notype: STT_NOTYPE };

/** Appends .symtab and .strtab: locals first, then globals, as sh_info requires. */
function addSymbolTables(out: OutSection[], symbols: readonly ImageSymbol[], sections: ImageSection[]): void {
  const strtab = new StringTable();
  const sym = new ByteWriter().zeros(SYM_SIZE);
  const ordered = [...symbols.filter((s) => !s.global), ...symbols.filter((s) => s.global)];
  for (const s of ordered) {
    checkName(s.name, 'symbol');
    checkU32(s.size, `symbol ${s.name} size`);
    sym.u32(strtab.add(s.name)).u32(symbolWord(s.value, s.name)).u32(s.size);
    sym.u8(((s.global ? STB_GLOBAL : STB_LOCAL) << 4) | SYMBOL_TYPES[s.kind]).u8(0);
    sym.u16(symbolSectionIndex(s, sections));
  }
  const symtabIndex = out.length;
  const firstGlobal = 1 + ordered.filter((s) => !s.global).length;
  out.push(outSection('.symtab', SHT_SYMTAB, sym.finish(), { link: symtabIndex + 1, info: firstGlobal, align: 4, entsize: SYM_SIZE }));
  out.push(outSection('.strtab', SHT_STRTAB, strtab.finish()));
}

/** Symbol values may be negative `equ` constants; they are stored as their 32-bit pattern. */
function symbolWord(value: number, name: string): number {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0xffffffff) {
    throw new RangeError(`symbol ${name}: value ${value} does not fit in 32 bits`);
  }
  return value >>> 0;
}

function symbolSectionIndex(s: ImageSymbol, sections: ImageSection[]): number {
  if (s.section === null) return SHN_ABS;
  const index = sections.findIndex((sec) => sec.name === s.section);
  if (index < 0) throw new RangeError(`symbol ${s.name} refers to unknown section ${s.section}`);
  return index + 1; // after the null section
}

/** Appends .shstrtab and returns its index; every section's name must be known first. */
function addSectionNames(out: OutSection[]): number {
  const names = new StringTable();
  for (const s of out) s.nameOffset = names.add(s.name);
  const own = names.add('.shstrtab');
  out.push(outSection('.shstrtab', SHT_STRTAB, names.finish(), { nameOffset: own }));
  return out.length - 1;
}

function segmentFlags(s: ImageSection): number {
  return PF_R | (s.write ? PF_W : 0) | (s.exec ? PF_X : 0);
}

/**
 * Groups allocated sections (by address) into PT_LOAD segments: a section joins the
 * previous segment when it has the same permissions, follows it within a page (the
 * gap is zero-filled in the file) and, if it has file bytes, no nobits precedes it.
 */
function planSegments(sections: ImageSection[]): Segment[] {
  const alloc = sections.filter((s) => s.alloc).sort((a, b) => a.vaddr - b.vaddr);
  const segments: Segment[] = [];
  for (const s of alloc) {
    const cur = segments[segments.length - 1];
    const flags = segmentFlags(s);
    const fits = cur !== undefined && cur.flags === flags && s.vaddr >= cur.memEnd && s.vaddr - cur.memEnd < PAGE;
    const end = s.vaddr + s.size;
    if (fits && (s.kind === 'nobits' || cur.fileEnd === cur.memEnd)) {
      cur.sections.push(s);
      cur.memEnd = end;
      if (s.kind === 'progbits') cur.fileEnd = end;
    } else {
      const fileEnd = s.kind === 'progbits' ? end : s.vaddr;
      segments.push({ vaddr: s.vaddr, memEnd: end, fileEnd, flags, sections: [s], offset: 0 });
    }
  }
  return segments;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Assigns file offsets: segments first (offset ≡ vaddr mod page), then the rest; returns e_shoff. */
function layout(out: OutSection[], segments: Segment[], start: number): number {
  let cursor = start;
  const placed = new Map<ImageSection, number>();
  for (const seg of segments) {
    seg.offset = cursor + ((((seg.vaddr - cursor) % PAGE) + PAGE) % PAGE);
    for (const s of seg.sections) placed.set(s, seg.offset + (s.vaddr - seg.vaddr));
    cursor = seg.offset + (seg.fileEnd - seg.vaddr);
  }
  for (const s of out.slice(1)) {
    const at = s.image ? placed.get(s.image) : undefined;
    if (at !== undefined) {
      s.offset = at;
      continue;
    }
    s.offset = alignUp(cursor, s.align);
    if (s.type !== SHT_NOBITS) cursor = s.offset + s.size;
  }
  return alignUp(cursor, 4);
}

function writeHeader(v: DataView, entry: number, phnum: number, shoff: number, shnum: number, shstrndx: number): void {
  [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1].forEach((b, i) => v.setUint8(i, b)); // magic, ELFCLASS32, LSB, EV_CURRENT
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, EM_386, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, entry, true);
  v.setUint32(28, phnum > 0 ? EHDR_SIZE : 0, true);
  v.setUint32(32, shoff, true);
  v.setUint32(36, 0, true);
  v.setUint16(40, EHDR_SIZE, true);
  v.setUint16(42, PHDR_SIZE, true);
  v.setUint16(44, phnum, true);
  v.setUint16(46, SHDR_SIZE, true);
  v.setUint16(48, shnum, true);
  v.setUint16(50, shstrndx, true);
}

function writeProgramHeaders(v: DataView, segments: Segment[], notes: OutSection[], physOffset: number): void {
  const phdrs: ElfProgramHeader[] = segments.map((seg) => ({
    type: PT_LOAD, offset: seg.offset, vaddr: seg.vaddr, paddr: (seg.vaddr - physOffset) >>> 0,
    filesz: seg.fileEnd - seg.vaddr, memsz: seg.memEnd - seg.vaddr, flags: seg.flags, align: PAGE,
  }));
  for (const n of notes) {
    const paddr = (n.flags & SHF_ALLOC) === 0 ? 0 : (n.addr - physOffset) >>> 0;
    phdrs.push({ type: PT_NOTE, offset: n.offset, vaddr: n.addr, paddr, filesz: n.size, memsz: n.size, flags: PF_R, align: 4 });
  }
  phdrs.forEach((p, i) => {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    [p.type, p.offset, p.vaddr, p.paddr, p.filesz, p.memsz, p.flags, p.align].forEach((x, k) => v.setUint32(at + 4 * k, x, true));
  });
}

function writeSectionHeader(v: DataView, at: number, s: OutSection): void {
  const fields = [s.nameOffset, s.type, s.flags, s.addr, s.type === SHT_NULL ? 0 : s.offset, s.size, s.link, s.info, s.type === SHT_NULL ? 0 : s.align, s.entsize];
  fields.forEach((x, k) => v.setUint32(at + 4 * k, x, true));
}

// ================================================================= reader

/** Parses an ELF32 little-endian file. Never throws on malformed input. */
export function readElf32(bytes: Uint8Array): ElfFile | ElfError {
  return catchDecode(() => parseElf(bytes));
}

interface Header {
  type: number;
  machine: number;
  entry: number;
  phoff: number;
  shoff: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

function parseElf(bytes: Uint8Array): ElfFile {
  const r = new ByteReader(bytes);
  const h = readHeader(r);
  const sectionHeaders = readSectionHeaders(r, h);
  const programHeaders = readProgramHeaders(r, h, sectionHeaders);
  const sections = sectionHeaders.filter(isContentSection).map((sh) => toImageSection(bytes, sh));
  return {
    kind: 'elf',
    type: h.type,
    machine: h.machine,
    entry: h.entry,
    programHeaders,
    sectionHeaders,
    sections,
    symbols: readSymbols(r, sectionHeaders),
    notes: readNotes(bytes, programHeaders, sectionHeaders),
    lines: readLines(bytes, sectionHeaders),
  };
}

function readHeader(r: ByteReader): Header {
  r.need(EHDR_SIZE, `ELF header (file is ${r.data.length} bytes)`);
  const d = r.data;
  if (d[0] !== 0x7f || d[1] !== 0x45 || d[2] !== 0x4c || d[3] !== 0x46) r.fail('bad ELF magic', 0);
  if (d[4] !== 1) r.fail(d[4] === 2 ? 'ELFCLASS64 file: only ELF32 is supported' : `bad ELF class ${d[4]}`, 4);
  if (d[5] !== 1) r.fail(d[5] === 2 ? 'big-endian file: only little-endian is supported' : `bad ELF data encoding ${d[5]}`, 5);
  if (d[6] !== 1) r.fail(`bad ELF version ${d[6]}`, 6);
  r.pos = 16;
  const type = r.u16();
  const machine = r.u16();
  r.u32(); // e_version
  const entry = r.u32();
  const phoff = r.u32();
  const shoff = r.u32();
  r.u32(); // e_flags
  r.u16(); // e_ehsize
  return { type, machine, entry, phoff, shoff, phentsize: r.u16(), phnum: r.u16(), shentsize: r.u16(), shnum: r.u16(), shstrndx: r.u16() };
}

/** Checks that `count` entries of `entsize` bytes at `offset` lie inside the file. */
function checkTable(r: ByteReader, offset: number, count: number, entsize: number, minEntsize: number, what: string, fieldAt: number): void {
  if (count === 0) return;
  if (entsize < minEntsize) r.fail(`${what} entry size ${entsize} is smaller than ${minEntsize}`, fieldAt);
  if (offset + count * entsize > r.data.length) {
    r.fail(`${what} table (${count} entries at offset ${offset}) runs past the end of the ${r.data.length}-byte file`, fieldAt);
  }
}

function readSectionHeaders(r: ByteReader, h: Header): ElfSectionHeader[] {
  if (h.shoff === 0) return [];
  let count = h.shnum;
  let shstrndx = h.shstrndx;
  if (count === 0 || shstrndx === SHN_XINDEX) {
    // Extended numbering: the real values live in section header 0.
    checkTable(r, h.shoff, 1, h.shentsize, SHDR_SIZE, 'section header', 46);
    const zero = rawSectionHeader(r, h.shoff);
    if (count === 0) count = zero.size;
    if (shstrndx === SHN_XINDEX) shstrndx = zero.link;
  }
  checkTable(r, h.shoff, count, h.shentsize, SHDR_SIZE, 'section header', 32);
  const raw = Array.from({ length: count }, (_, i) => rawSectionHeader(r, h.shoff + i * h.shentsize));
  raw.forEach((sh, i) => checkSectionBounds(r, sh, h.shoff + i * h.shentsize));
  const names = sectionNameTable(r, raw, shstrndx);
  return raw.map((sh, i) => ({ ...sh, name: sectionName(r, names, sh.nameOffset, h.shoff + i * h.shentsize) }));
}

type RawSectionHeader = Omit<ElfSectionHeader, 'name'> & { nameOffset: number };

function rawSectionHeader(r: ByteReader, at: number): RawSectionHeader {
  r.pos = at;
  const nameOffset = r.u32();
  const [type, flags, addr, offset, size, link, info, addralign, entsize] = Array.from({ length: 9 }, () => r.u32());
  return { nameOffset, type, flags, addr, offset, size, link, info, addralign, entsize };
}

function checkSectionBounds(r: ByteReader, sh: RawSectionHeader, at: number): void {
  if (sh.type === SHT_NULL || sh.type === SHT_NOBITS) return;
  if (sh.offset + sh.size > r.data.length) {
    r.fail(`section contents (${sh.size} bytes at offset ${sh.offset}) run past the end of the ${r.data.length}-byte file`, at + 16);
  }
}

function sectionNameTable(r: ByteReader, raw: RawSectionHeader[], index: number): Uint8Array | undefined {
  if (index === SHN_UNDEF || raw.length === 0) return undefined;
  if (index >= raw.length) r.fail(`e_shstrndx ${index} is not below the section count ${raw.length}`, 50);
  const sh = raw[index];
  if (sh.type !== SHT_STRTAB) r.fail(`section-name table (section ${index}) is not a string table`, 50);
  return r.data.subarray(sh.offset, sh.offset + sh.size);
}

function sectionName(r: ByteReader, names: Uint8Array | undefined, offset: number, at: number): string {
  if (names === undefined) return '';
  return stringAt(names, offset) ?? r.fail(`section name offset ${offset} is outside the section-name table`, at);
}

function readProgramHeaders(r: ByteReader, h: Header, sections: ElfSectionHeader[]): ElfProgramHeader[] {
  const count = h.phnum === PN_XNUM && sections.length > 0 ? sections[0].info : h.phnum;
  checkTable(r, h.phoff, count, h.phentsize, PHDR_SIZE, 'program header', 28);
  return Array.from({ length: count }, (_, i) => readProgramHeader(r, h.phoff + i * h.phentsize));
}

function readProgramHeader(r: ByteReader, at: number): ElfProgramHeader {
  r.pos = at;
  const [type, offset, vaddr, paddr, filesz, memsz, flags, align] = Array.from({ length: 8 }, () => r.u32());
  if (filesz > 0 && offset + filesz > r.data.length) {
    r.fail(`segment contents (${filesz} bytes at offset ${offset}) run past the end of the ${r.data.length}-byte file`, at + 4);
  }
  if (type === PT_LOAD && filesz > memsz) r.fail(`PT_LOAD p_filesz ${filesz} exceeds p_memsz ${memsz}`, at + 16);
  return { type, offset, vaddr, paddr, filesz, memsz, flags, align };
}

const CONTENT_TYPES = new Set([SHT_PROGBITS, SHT_NOBITS, SHT_NOTE, SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY]);

function isContentSection(sh: ElfSectionHeader): boolean {
  return CONTENT_TYPES.has(sh.type) && !sh.name.startsWith('.debug') && !sh.name.startsWith('.zdebug');
}

function toImageSection(file: Uint8Array, sh: ElfSectionHeader): ImageSection {
  const nobits = sh.type === SHT_NOBITS;
  return {
    name: sh.name,
    kind: nobits ? 'nobits' : 'progbits',
    vaddr: sh.addr,
    size: sh.size,
    bytes: nobits ? new Uint8Array(0) : file.slice(sh.offset, sh.offset + sh.size),
    align: Math.max(1, sh.addralign),
    write: (sh.flags & SHF_WRITE) !== 0,
    exec: (sh.flags & SHF_EXECINSTR) !== 0,
    alloc: (sh.flags & SHF_ALLOC) !== 0,
  };
}

function sectionBytes(file: Uint8Array, sh: ElfSectionHeader): Uint8Array {
  return sh.type === SHT_NOBITS ? new Uint8Array(0) : file.subarray(sh.offset, sh.offset + sh.size);
}

function readSymbols(r: ByteReader, sections: ElfSectionHeader[]): ImageSymbol[] {
  const index = sections.findIndex((s) => s.type === SHT_SYMTAB);
  if (index < 0) return [];
  const symtab = sections[index];
  if (symtab.entsize !== SYM_SIZE) r.fail(`.symtab entry size ${symtab.entsize} is not ${SYM_SIZE}`, symtab.offset);
  if (symtab.size % SYM_SIZE !== 0) r.fail(`.symtab size ${symtab.size} is not a multiple of ${SYM_SIZE}`, symtab.offset);
  const strtab = sections[symtab.link];
  if (strtab === undefined || strtab.type !== SHT_STRTAB) r.fail(`.symtab links to section ${symtab.link}, not a string table`, symtab.offset);
  const names = sectionBytes(r.data, strtab);
  const symbols: ImageSymbol[] = [];
  for (let at = symtab.offset + SYM_SIZE; at < symtab.offset + symtab.size; at += SYM_SIZE) {
    const s = readSymbol(r, at, names, sections);
    if (s) symbols.push(s);
  }
  return symbols;
}

function readSymbol(r: ByteReader, at: number, names: Uint8Array, sections: ElfSectionHeader[]): ImageSymbol | undefined {
  r.pos = at;
  const nameOffset = r.u32();
  const value = r.u32();
  const size = r.u32();
  const info = r.u8();
  r.u8(); // st_other
  const shndx = r.u16();
  const type = info & 0xf;
  const bind = info >> 4;
  if (type === STT_SECTION || type === STT_FILE || shndx === SHN_UNDEF) return undefined;
  const name = stringAt(names, nameOffset) ?? r.fail(`symbol name offset ${nameOffset} is outside .strtab`, at);
  let section: string | null = null;
  if (shndx < SHN_LORESERVE) {
    if (shndx >= sections.length) r.fail(`symbol ${name} refers to section ${shndx} of ${sections.length}`, at + 14);
    section = sections[shndx].name;
  }
  const kind = type === STT_FUNC ? 'func' : type === STT_OBJECT ? 'object' : 'notype';
  return { name, value, size, section, global: bind === STB_GLOBAL || bind === STB_WEAK, kind };
}

function readNotes(file: Uint8Array, phdrs: ElfProgramHeader[], sections: ElfSectionHeader[]): ImageNote[] {
  const phNotes = phdrs.filter((p) => p.type === PT_NOTE).map((p) => ({ offset: p.offset, size: p.filesz }));
  const regions = phNotes.length > 0 ? phNotes : sections.filter((s) => s.type === SHT_NOTE).map((s) => ({ offset: s.offset, size: s.size }));
  const notes: ImageNote[] = [];
  for (const { offset, size } of regions) {
    const decoded = decodeNotes(file.subarray(offset, offset + size), offset);
    if (isDecodeError(decoded)) throw asFailure(decoded);
    notes.push(...decoded);
  }
  return notes;
}

function readLines(file: Uint8Array, sections: ElfSectionHeader[]): LineRow[] | null {
  const find = (name: string) => sections.find((s) => s.name === name && s.type !== SHT_NOBITS);
  const line = find('.debug_line');
  if (!line) return null;
  if ((line.flags & SHF_COMPRESSED) !== 0) throw new DecodeFailure(line.offset, 'compressed .debug_line is not supported');
  const strings = {
    lineStr: optionalBytes(file, find('.debug_line_str')),
    str: optionalBytes(file, find('.debug_str')),
  };
  const table = decodeDebugLine(sectionBytes(file, line), strings, line.offset);
  if (isDecodeError(table)) throw asFailure(table);
  return table.rows;
}

function optionalBytes(file: Uint8Array, sh: ElfSectionHeader | undefined): Uint8Array | undefined {
  return sh ? sectionBytes(file, sh) : undefined;
}

/** Nested decoders report errors as values; rethrow them so parseElf stops at the first one. */
function asFailure(e: DecodeError): DecodeFailure {
  return new DecodeFailure(e.offset, e.message);
}
