import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Image, ImageNote, ImageSection, ImageSymbol, LineRow } from '../src/image.js';
import { decodeDebugLine, encodeDebugLine, joinPath, normalizeRows, splitPath } from '../src/elf/dwarfLine.js';
import {
  type ElfFile, EM_386, ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE, SHT_NOBITS, SHT_NOTE, SHT_PROGBITS,
  elfToImage, isElfError, readElf32, writeElf32,
} from '../src/elf/elf32.js';
import {
  decodeNotes, encodeNote, encodeNotes, isDecodeError, noteBigInt, noteNumber, noteString, stringDesc, u32Desc, u64Desc,
} from '../src/elf/notes.js';

// Real Xen note type numbers (the canonical constants live in isa/src/xen).
const XEN_ELFNOTE_ENTRY = 1;
const XEN_ELFNOTE_HYPERCALL_PAGE = 2;
const XEN_ELFNOTE_VIRT_BASE = 3;
const XEN_ELFNOTE_XEN_VERSION = 5;
const XEN_ELFNOTE_GUEST_OS = 6;
const XEN_ELFNOTE_LOADER = 8;

/** Fuzz iterations per property; raise with XENOLAB_FUZZ_RUNS for a long soak. */
const FUZZ_RUNS = Number(process.env.XENOLAB_FUZZ_RUNS ?? 2000);

const BASE = 0xc000_0000;
const TEXT = BASE + 0x1000;
const DATA = BASE + 0x2000;
const BSS = DATA + 0x10;
const HYPERCALL_PAGE = BASE + 0x3000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xenolab-elf-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a tool, failing the test on a non-zero exit or on anything printed to stderr (warnings). */
function tool(cmd: string, args: string[], cwd?: string): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  if (res.error) throw res.error;
  expect(res.stderr, `${cmd} ${args.join(' ')} stderr`).toBe('');
  expect(res.status, `${cmd} ${args.join(' ')} exit status`).toBe(0);
  return res.stdout;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

function hex(v: number): string {
  return v.toString(16);
}

function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function expectElf(value: ElfFile | ReturnType<typeof readElf32>): ElfFile {
  if (isElfError(value)) throw new Error(`unexpected ELF error at ${value.offset}: ${value.message}`);
  return value;
}

function progbits(name: string, vaddr: number, bytes: number[] | Uint8Array, flags: Partial<ImageSection> = {}): ImageSection {
  return {
    name, kind: 'progbits', vaddr, size: bytes.length, bytes: Uint8Array.from(bytes),
    align: 4, write: false, exec: false, alloc: true, ...flags,
  };
}

function nobits(name: string, vaddr: number, size: number, flags: Partial<ImageSection> = {}): ImageSection {
  return { name, kind: 'nobits', vaddr, size, bytes: new Uint8Array(0), align: 4, write: true, exec: false, alloc: true, ...flags };
}

const xenNotes: ImageNote[] = [
  { name: 'Xen', type: XEN_ELFNOTE_GUEST_OS, desc: stringDesc('xenolab-test') },
  { name: 'Xen', type: XEN_ELFNOTE_XEN_VERSION, desc: stringDesc('xen-3.0') },
  { name: 'Xen', type: XEN_ELFNOTE_LOADER, desc: stringDesc('generic') },
  { name: 'Xen', type: XEN_ELFNOTE_VIRT_BASE, desc: u32Desc(BASE) },
  { name: 'Xen', type: XEN_ELFNOTE_ENTRY, desc: u32Desc(TEXT) },
  { name: 'Xen', type: XEN_ELFNOTE_HYPERCALL_PAGE, desc: u32Desc(HYPERCALL_PAGE) },
];

// mov eax, 1 ; int 0x82 ; ret ; helper: mov ebx, [DATA] ; ret
const TEXT_BYTES = [0xb8, 0x01, 0x00, 0x00, 0x00, 0xcd, 0x82, 0xc3, 0x8b, 0x1d, ...le32(DATA), 0xc3];

const sampleLines: LineRow[] = [
  { address: TEXT, file: 'boot.asm', line: 3, column: 5 },
  { address: TEXT + 5, file: 'boot.asm', line: 4, column: 5 },
  { address: TEXT + 7, file: 'boot.asm', line: 40, column: 1 },
  { address: TEXT + 8, file: 'lib/io.asm', line: 12, column: 9 },
  { address: TEXT + 14, file: 'lib/io.asm', line: 2, column: 9 },
  { address: DATA, file: 'boot.asm', line: 300, column: 1 },
];

const sampleSymbols: ImageSymbol[] = [
  { name: 'counter', value: DATA, size: 4, section: '.data', global: false, kind: 'object' },
  { name: 'PAGE_SIZE', value: 4096, size: 0, section: null, global: false, kind: 'notype' },
  { name: 'helper', value: TEXT + 8, size: 7, section: '.text', global: false, kind: 'func' },
  { name: '_start', value: TEXT, size: 8, section: '.text', global: true, kind: 'func' },
  { name: 'stack', value: BSS, size: 0x100, section: '.bss', global: true, kind: 'object' },
  { name: 'hypercall_page', value: HYPERCALL_PAGE, size: 0x1000, section: '.hypercall_page', global: true, kind: 'notype' },
];

function sampleImage(): Image {
  return {
    entry: TEXT,
    sections: [
      progbits('.note.Xen', BASE + 0x100, encodeNotes(xenNotes)),
      progbits('.text', TEXT, TEXT_BYTES, { exec: true, align: 16 }),
      progbits('.data', DATA, [1, 2, 3, 4, 5, 6, 7, 8], { write: true }),
      nobits('.bss', BSS, 0x100, { align: 16 }),
      nobits('.hypercall_page', HYPERCALL_PAGE, 0x1000, { write: false, exec: true, align: 4096 }),
    ],
    symbols: sampleSymbols,
    lines: sampleLines,
    notes: xenNotes,
  };
}

/** Parses readelf/objdump "decodedline" output into (basename, line, address) rows. */
function parseDecodedLines(text: string): { file: string; line: number; address: number }[] {
  const rows: { file: string; line: number; address: number }[] = [];
  for (const l of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+0x([0-9a-f]+)\b/.exec(l);
    if (m) rows.push({ file: m[1], line: Number(m[2]), address: parseInt(m[3], 16) });
  }
  return rows;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

describe('writeElf32 output, checked with binutils and gdb', () => {
  let path: string;
  beforeAll(() => {
    path = writeTemp('sample.elf', writeElf32(sampleImage(), { physOffset: BASE }));
  });

  it('has an ELF32 i386 executable header with the entry point', () => {
    const out = tool('readelf', ['-h', path]);
    expect(out).toMatch(/Class:\s+ELF32/);
    expect(out).toMatch(/Data:\s+2's complement, little endian/);
    expect(out).toMatch(/Type:\s+EXEC \(Executable file\)/);
    expect(out).toMatch(/Machine:\s+Intel 80386/);
    expect(out).toMatch(/Entry point address:\s+0xc0001000/);
  });

  it('has page-congruent PT_LOAD segments with the right flags and sizes, and a PT_NOTE', () => {
    const out = tool('readelf', ['-l', '-W', path]);
    const segs = [...out.matchAll(/^\s+(LOAD|NOTE)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)/gm)]
      .map((m) => ({
        type: m[1], offset: parseInt(m[2], 16), vaddr: parseInt(m[3], 16), paddr: parseInt(m[4], 16),
        filesz: parseInt(m[5], 16), memsz: parseInt(m[6], 16), flags: m[7].trim(), align: parseInt(m[8], 16),
      }));
    const loads = segs.filter((s) => s.type === 'LOAD');
    for (const s of loads) {
      expect(s.align).toBe(0x1000);
      expect(s.offset % 0x1000).toBe(s.vaddr % 0x1000);
      expect(s.paddr).toBe(s.vaddr - BASE); // physOffset
    }
    expect(loads.map((s) => [hex(s.vaddr), s.flags, s.filesz, s.memsz])).toEqual([
      ['c0000100', 'R', encodeNotes(xenNotes).length, encodeNotes(xenNotes).length],
      ['c0001000', 'R E', TEXT_BYTES.length, TEXT_BYTES.length],
      ['c0002000', 'RW', 8, 0x110], // .data + .bss in one segment
      ['c0003000', 'R E', 0, 0x1000], // nobits only
    ]);
    const note = segs.find((s) => s.type === 'NOTE');
    expect(note).toMatchObject({ vaddr: BASE + 0x100, offset: loads[0].offset, filesz: loads[0].filesz, align: 4 });
    expect(out).toMatch(/^\s+02\s+\.data \.bss\s*$/m);
  });

  it('lists the sections with their types and flags', () => {
    const out = tool('readelf', ['-S', '-W', path]);
    const row = (name: string) => new RegExp(`\\]\\s+${name.replace('.', '\\.')}\\s+(\\S+)\\s+([0-9a-f]{8}) [0-9a-f]{6} ([0-9a-f]{6}) \\S+ +(\\S*) `).exec(out);
    expect(row('.note.Xen')?.slice(1)).toEqual(['NOTE', 'c0000100', hex(encodeNotes(xenNotes).length).padStart(6, '0'), 'A']);
    expect(row('.text')?.slice(1)).toEqual(['PROGBITS', 'c0001000', '00000f', 'AX']);
    expect(row('.data')?.slice(1)).toEqual(['PROGBITS', 'c0002000', '000008', 'WA']);
    expect(row('.bss')?.slice(1)).toEqual(['NOBITS', 'c0002010', '000100', 'WA']);
    expect(row('.hypercall_page')?.slice(1)).toEqual(['NOBITS', 'c0003000', '001000', 'AX']);
    for (const name of ['.debug_line', '.debug_info', '.debug_abbrev', '.symtab', '.strtab', '.shstrtab']) {
      expect(out).toContain(` ${name} `);
    }
  });

  it('has a symbol table with locals first and section / ABS indexes', () => {
    const out = tool('readelf', ['-s', '-W', path]);
    const syms = [...out.matchAll(/^\s+\d+: ([0-9a-f]{8})\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+(\w+) (\S+)$/gm)]
      .map((m) => [m[6], parseInt(m[1], 16), Number(m[2]), m[3], m[4], m[5]]);
    expect(syms).toEqual([
      ['counter', DATA, 4, 'OBJECT', 'LOCAL', '3'],
      ['PAGE_SIZE', 4096, 0, 'NOTYPE', 'LOCAL', 'ABS'],
      ['helper', TEXT + 8, 7, 'FUNC', 'LOCAL', '2'],
      ['_start', TEXT, 8, 'FUNC', 'GLOBAL', '2'],
      ['stack', BSS, 256, 'OBJECT', 'GLOBAL', '4'],
      ['hypercall_page', HYPERCALL_PAGE, 4096, 'NOTYPE', 'GLOBAL', '5'],
    ]);
    // sh_info of .symtab = index of the first global (null + 3 locals).
    expect(tool('readelf', ['-S', '-W', path])).toMatch(/\.symtab\s+SYMTAB\s+\S+ \S+ \S+ 10\s+\d+\s+4\s+4/);
  });

  it('shows the Xen notes with owner, type and value', () => {
    const out = tool('readelf', ['-n', '-W', path]);
    expect(out).toContain('Displaying notes found in: .note.Xen');
    // binutils 2.40 has no Xen note names: types 1 and 2 get the generic core
    // names, the rest are printed as "Unknown note type: (0x...)".
    const genericNames: Record<number, string> = { 1: 'NT_VERSION', 2: 'NT_ARCH' };
    // With -W an entry is one line: owner, size, type, description data.
    const entries = [...out.matchAll(/^ +(\S+) +0x([0-9a-f]{8})\t(.*?)\s+description data: ([0-9a-f ]+)$/gm)];
    expect(entries).toHaveLength(xenNotes.length);
    entries.forEach((m, i) => {
      const note = xenNotes[i];
      expect(m[1]).toBe('Xen');
      expect(parseInt(m[2], 16)).toBe(note.desc.length);
      const typeText = genericNames[note.type] ?? `Unknown note type: (0x${hex(note.type).padStart(8, '0')})`;
      expect(m[3]).toContain(typeText);
      expect(m[4].trim().split(' ').map((b) => parseInt(b, 16))).toEqual([...note.desc]);
    });
    expect(out).toContain('78 65 6e 6f 6c 61 62 2d 74 65 73 74 00'); // "xenolab-test\0"
    expect(out).toContain('00 00 00 c0'); // VIRT_BASE 0xc0000000
  });

  it('maps every address to the right file and line in readelf and objdump decodedline', () => {
    const expected = sampleLines.map((r) => ({ file: basename(r.file), line: r.line, address: r.address }));
    expect(parseDecodedLines(tool('readelf', ['--debug-dump=decodedline', path]))).toEqual(expected);
    expect(parseDecodedLines(tool('objdump', ['--dwarf=decodedline', path]))).toEqual(expected);
    expect(tool('readelf', ['--debug-dump=rawline', path])).toMatch(/DWARF Version:\s+4/);
    const info = tool('readelf', ['--debug-dump=info', path]);
    expect(info).toMatch(/DW_AT_producer\s+: xenolab/);
    expect(info).toMatch(/DW_AT_low_pc\s+: 0xc0001000/);
  });

  it('disassembles with objdump, with source lines', () => {
    const out = tool('objdump', ['-d', '-M', 'intel', path]);
    expect(out).toMatch(/c0001000 <_start>:/);
    expect(out).toMatch(/c0001000:\s+b8 01 00 00 00\s+mov\s+eax,0x1/);
    expect(out).toMatch(/c0001005:\s+cd 82\s+int\s+0x82/);
    expect(out).toMatch(/c0001007:\s+c3\s+ret/);
    expect(out).toMatch(/c0001008 <helper>:/);
    expect(out).toMatch(/mov\s+ebx,DWORD PTR ds:0xc0002000/);
    const withLines = tool('objdump', ['-d', '-l', '-M', 'intel', path]);
    expect(withLines).toMatch(/boot\.asm:4\nc0001005:/);
    expect(withLines).toMatch(/lib\/io\.asm:12\nc0001008:/);
  });

  it('resolves addresses with addr2line, including mid-instruction ones', () => {
    const addrs = [TEXT, TEXT + 6, TEXT + 7, TEXT + 10, TEXT + 14, DATA + 4].map((a) => `0x${hex(a)}`);
    const out = tool('addr2line', ['-e', path, ...addrs]).trim().split('\n');
    expect(out).toEqual(['boot.asm:3', 'boot.asm:4', 'boot.asm:40', 'lib/io.asm:12', 'lib/io.asm:2', 'boot.asm:300']);
  });

  it('is understood by gdb', () => {
    const out = tool('gdb', ['-batch', '-nx', '-ex', `info line *0x${hex(TEXT + 8)}`, '-ex', `info symbol 0x${hex(TEXT + 9)}`, path]);
    expect(out).toContain('Line 12 of "lib/io.asm" starts at address 0xc0001008 <helper> and ends at 0xc000100e <helper+6>.');
    expect(out).toContain('helper + 1 in section .text');
  });

  it('prefixes relative paths with DW_AT_comp_dir when given', () => {
    const p = writeTemp('compdir.elf', writeElf32(sampleImage(), { compDir: '/src/kernel' }));
    expect(tool('addr2line', ['-e', p, `0x${hex(TEXT + 8)}`]).trim()).toBe('/src/kernel/lib/io.asm:12');
  });
});

describe('readElf32', () => {
  it('round-trips an image written by writeElf32', () => {
    const image = sampleImage();
    const file = expectElf(readElf32(writeElf32(image)));
    expect(file.type).toBe(ET_EXEC);
    expect(file.machine).toBe(EM_386);
    expect(elfToImage(file)).toEqual(image);
    expect(file.programHeaders.filter((p) => p.type === PT_LOAD).map((p) => p.flags)).toEqual([PF_R, PF_R | PF_X, PF_R | PF_W, PF_R | PF_X]);
    expect(file.programHeaders.filter((p) => p.type === PT_NOTE)).toHaveLength(1);
    const types = Object.fromEntries(file.sectionHeaders.map((s) => [s.name, s.type]));
    expect(types).toMatchObject({ '.note.Xen': SHT_NOTE, '.text': SHT_PROGBITS, '.bss': SHT_NOBITS, '.debug_line': SHT_PROGBITS });
  });

  it('round-trips non-alloc note sections, and synthesizes .note from image.notes alone', () => {
    const base = sampleImage();
    const nonAlloc: Image = {
      ...base,
      sections: [...base.sections.slice(1), progbits('.note.Xen', 0, encodeNotes(xenNotes), { alloc: false })],
    };
    const file = expectElf(readElf32(writeElf32(nonAlloc)));
    expect(elfToImage(file)).toEqual(nonAlloc);
    const note = file.programHeaders.find((p) => p.type === PT_NOTE);
    expect(note?.vaddr).toBe(0);
    expect(file.programHeaders.filter((p) => p.type === PT_LOAD)).toHaveLength(3);

    const notesOnly: Image = { ...base, sections: base.sections.slice(1) };
    const file2 = expectElf(readElf32(writeElf32(notesOnly)));
    expect(file2.notes).toEqual(xenNotes);
    expect(file2.sections.map((s) => s.name)).toEqual(['.text', '.data', '.bss', '.hypercall_page', '.note']);
  });

  it('writes an image with no lines, symbols or notes', () => {
    const image: Image = { entry: 0x100000, sections: [progbits('.text', 0x100000, [0xc3], { exec: true })], symbols: [], lines: [], notes: [] };
    const bytes = writeElf32(image);
    const file = expectElf(readElf32(bytes));
    expect(elfToImage(file)).toEqual(image);
    expect(file.lines).toBeNull();
    tool('readelf', ['-a', '-W', writeTemp('minimal.elf', bytes)]);
  });

  it('reads an executable made by nasm -f elf32 and ld -m elf_i386', () => {
    const src = [
      'section .text',
      'global _start',
      '_start:',
      '    mov eax, 1',
      '    int 0x82',
      '    call helper',
      '    ret',
      'helper:',
      '    mov ebx, [value]',
      '    ret',
      'section .data',
      'value: dd 0x12345678',
      'section .bss',
      'buf: resb 64',
      '',
    ].join('\n');
    writeFileSync(join(dir, 't.asm'), src);
    tool('nasm', ['-f', 'elf32', '-g', '-F', 'dwarf', 't.asm', '-o', 't.o'], dir);
    tool('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-o', 't.elf', 't.o'], dir);
    const file = expectElf(readElf32(readFileSync(join(dir, 't.elf'))));
    expect(file.entry).toBe(0x100000);
    expect(file.machine).toBe(EM_386);
    expect(file.type).toBe(ET_EXEC);
    const text = file.sections.find((s) => s.name === '.text');
    expect(text).toMatchObject({ kind: 'progbits', vaddr: 0x100000, exec: true, alloc: true, write: false });
    expect([...(text?.bytes ?? []).slice(0, 7)]).toEqual([0xb8, 1, 0, 0, 0, 0xcd, 0x82]);
    expect(file.sections.find((s) => s.name === '.data')).toMatchObject({ vaddr: 0x101000, size: 4, write: true });
    expect(file.sections.find((s) => s.name === '.bss')).toMatchObject({ kind: 'nobits', size: 64, bytes: new Uint8Array(0) });
    expect(file.sections.some((s) => s.name.startsWith('.debug'))).toBe(false);
    const sym = (name: string) => file.symbols.find((s) => s.name === name);
    expect(sym('_start')).toMatchObject({ value: 0x100000, section: '.text', global: true });
    expect(sym('helper')).toMatchObject({ value: 0x10000d, section: '.text', global: false });
    expect(sym('value')).toMatchObject({ value: 0x101000, section: '.data', kind: 'object' });
    expect(sym('t.asm')).toBeUndefined(); // STT_FILE is left out
    // nasm writes a DWARF 2 table whose files come from DW_LNE_define_file.
    expect(file.lines?.map((r) => [r.address, r.file, r.line])).toEqual([
      [0x100000, 't.asm', 4], [0x100005, 't.asm', 5], [0x100007, 't.asm', 6],
      [0x10000c, 't.asm', 7], [0x10000d, 't.asm', 9], [0x100013, 't.asm', 10],
    ]);
    expect(file.programHeaders.filter((p) => p.type === PT_LOAD).length).toBeGreaterThanOrEqual(2);
  });

  it('decodes a DWARF 5 line table made by gcc, and refuses 64-bit ELF with a clear error', () => {
    writeFileSync(join(dir, 'c.c'), 'int main(void)\n{\n  return 0;\n}\n');
    const built = spawnSync('gcc', ['-g', '-gdwarf-5', '-O0', '-o', 'c.out', 'c.c'], { cwd: dir, encoding: 'utf8' });
    if (built.status !== 0) return; // no usable gcc: nothing to compare against
    tool('objcopy', ['--dump-section', '.debug_line=line.bin', '--dump-section', '.debug_line_str=linestr.bin', 'c.out', 'junk.out'], dir);
    const table = decodeDebugLine(readFileSync(join(dir, 'line.bin')), { lineStr: readFileSync(join(dir, 'linestr.bin')) });
    if (isDecodeError(table)) throw new Error(table.message);
    const expected = parseDecodedLines(tool('objdump', ['--dwarf=decodedline', join(dir, 'c.out')]));
    // objdump prints every row; we keep the last row per address.
    const lastPerAddress = [...new Map(expected.map((r) => [r.address, r])).values()];
    expect(table.rows.map((r) => ({ file: r.file, line: r.line, address: r.address }))).toEqual(lastPerAddress);
    const err = readElf32(readFileSync(join(dir, 'c.out')));
    expect(err).toMatchObject({ kind: 'error', offset: 4 });
    expect(isElfError(err) && err.message).toContain('ELFCLASS64');
  });

  describe('malformed input', () => {
    const valid = writeElf32(sampleImage());
    const withU32 = (at: number, v: number) => {
      const b = valid.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    };
    const withU16 = (at: number, v: number) => {
      const b = valid.slice();
      new DataView(b.buffer).setUint16(at, v, true);
      return b;
    };
    const errorOf = (bytes: Uint8Array) => {
      const r = readElf32(bytes);
      if (!isElfError(r)) throw new Error('expected an error');
      return r;
    };
    const shoff = new DataView(valid.buffer).getUint32(32, true);

    it('reports truncation, magic, class and byte order', () => {
      expect(errorOf(valid.slice(0, 20))).toMatchObject({ offset: 0, message: expect.stringContaining('truncated ELF header') });
      expect(errorOf(new Uint8Array(0)).message).toContain('truncated');
      expect(errorOf(withU32(0, 0x464c457f + 1))).toMatchObject({ offset: 0, message: 'bad ELF magic' });
      const big = valid.slice();
      big[5] = 2;
      expect(errorOf(big)).toMatchObject({ offset: 5, message: expect.stringContaining('big-endian') });
      const cls = valid.slice();
      cls[4] = 7;
      expect(errorOf(cls)).toMatchObject({ offset: 4, message: 'bad ELF class 7' });
    });

    it('reports tables and contents outside the file', () => {
      expect(errorOf(valid.slice(0, valid.length - 1)).message).toContain('section header table');
      expect(errorOf(withU32(32, 0xfffffff0)).offset).toBe(32);
      expect(errorOf(withU16(48, 0xfffe)).message).toMatch(/65534 entries/);
      expect(errorOf(withU16(44, 0xfff0)).message).toContain('program header table');
      expect(errorOf(withU16(42, 8)).message).toContain('entry size 8');
      // .text's sh_size (section 2) made huge.
      expect(errorOf(withU32(shoff + 2 * 40 + 20, 0x7fffffff))).toMatchObject({ offset: shoff + 2 * 40 + 16 });
      // first PT_LOAD's p_filesz made larger than p_memsz
      expect(errorOf(withU32(52 + 16, 0x1000)).message).toMatch(/exceeds p_memsz|past the end/);
      expect(errorOf(withU16(50, 99)).message).toContain('e_shstrndx 99');
    });

    it('reports broken notes and line tables with file offsets', () => {
      const file = expectElf(readElf32(valid));
      const notes = file.sectionHeaders.find((s) => s.name === '.note.Xen');
      const line = file.sectionHeaders.find((s) => s.name === '.debug_line');
      if (!notes || !line) throw new Error('missing sections');
      const badNote = withU32(notes.offset, 0x1000); // namesz of the first note
      expect(errorOf(badNote)).toMatchObject({ offset: notes.offset, message: expect.stringContaining('note name size') });
      const badLine = withU16(line.offset + 4, 9); // version
      expect(errorOf(badLine)).toMatchObject({ offset: line.offset + 4, message: 'unsupported line table version 9' });
    });

    it('never throws or hangs on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
          const r = readElf32(bytes);
          expect(isElfError(r)).toBe(true);
        }),
        { numRuns: FUZZ_RUNS },
      );
      // Random bytes behind a valid ELF32 identification get further into the parser.
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 52, maxLength: 600 }), (bytes) => {
          bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
          readElf32(bytes);
        }),
        { numRuns: FUZZ_RUNS },
      );
    });

    it('never throws or hangs on mutations of a valid file', () => {
      const fields = fc.oneof(
        fc.integer({ min: 0, max: valid.length - 4 }),
        fc.integer({ min: 16, max: 50 }), // ELF header
        fc.integer({ min: 52, max: 52 + 5 * 32 - 4 }), // program headers
        fc.integer({ min: shoff, max: valid.length - 4 }), // section headers
      );
      const value = fc.oneof(fc.constantFrom(0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000, valid.length), fc.nat());
      const mutation = fc.record({ at: fields, value, width: fc.constantFrom(1, 2, 4) });
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.nat({ max: valid.length }), (muts, cut) => {
          const b = valid.slice();
          const v = new DataView(b.buffer);
          for (const m of muts) {
            if (m.width === 1) v.setUint8(m.at, m.value & 0xff);
            else if (m.width === 2) v.setUint16(m.at, m.value & 0xffff, true);
            else v.setUint32(m.at, m.value >>> 0, true);
          }
          const started = Date.now();
          readElf32(b);
          readElf32(b.subarray(0, cut));
          expect(Date.now() - started).toBeLessThan(1000);
        }),
        { numRuns: FUZZ_RUNS },
      );
    });
  });
});

/** Random but self-consistent images: non-overlapping sections, symbols in them, lines inside them. */
const arbImage: fc.Arbitrary<Image> = fc
  .record({
    base: fc.nat({ max: 0xf0000 }).map((p) => p * 0x1000),
    entry: fc.nat({ max: 0xffffffff }),
    specs: fc.array(
      fc.record({
        gap: fc.oneof(fc.constant(0), fc.nat({ max: 0x40 }), fc.nat({ max: 0x3000 })),
        align: fc.constantFrom(1, 4, 16, 4096),
        nobits: fc.boolean(),
        write: fc.boolean(),
        exec: fc.boolean(),
        alloc: fc.boolean(),
        data: fc.uint8Array({ maxLength: 64 }),
        bssSize: fc.nat({ max: 0x2000 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    notes: fc.array(fc.record({ type: fc.nat({ max: 20 }), desc: fc.uint8Array({ maxLength: 12 }) }), { maxLength: 3 }),
    picks: fc.array(fc.record({ s: fc.nat(), off: fc.nat(), global: fc.boolean(), kind: fc.constantFrom('func', 'object', 'notype') as fc.Arbitrary<ImageSymbol['kind']>, file: fc.constantFrom('a.asm', 'sub/b.asm'), line: fc.nat({ max: 5000 }), col: fc.nat({ max: 80 }) }), { maxLength: 12 }),
  })
  .map(({ base, entry, specs, notes, picks }) => {
    let cursor = base;
    const sections: ImageSection[] = specs.map((sp, i) => {
      const size = sp.nobits ? sp.bssSize : sp.data.length;
      const vaddr = sp.alloc ? Math.ceil((cursor + sp.gap) / sp.align) * sp.align : 0;
      if (sp.alloc) cursor = vaddr + size;
      return {
        name: `.s${i}`, kind: sp.nobits ? 'nobits' : 'progbits', vaddr, size,
        bytes: sp.nobits ? new Uint8Array(0) : sp.data, align: sp.align, write: sp.write, exec: sp.exec, alloc: sp.alloc,
      } satisfies ImageSection;
    });
    const imageNotes = notes.map((n) => ({ name: 'Xen', ...n }));
    if (imageNotes.length > 0) {
      const bytes = encodeNotes(imageNotes);
      sections.push({ name: '.note.Xen', kind: 'progbits', vaddr: 0, size: bytes.length, bytes, align: 4, write: false, exec: false, alloc: false });
    }
    const located = picks.map((p) => {
      const sec = sections[p.s % sections.length];
      return { p, sec, address: sec.vaddr + (sec.size === 0 ? 0 : p.off % sec.size) };
    });
    const symbols = located.map(({ p, sec, address }, i): ImageSymbol => ({
      name: `sym${i}`, value: address, size: p.off % 9, section: p.s % 3 === 0 ? null : sec.name, global: p.global, kind: p.kind,
    }));
    const lines = normalizeRows(located
      .filter(({ sec }) => sec.alloc && sec.size > 0)
      .map(({ p, address }) => ({ address, file: p.file, line: p.line, column: p.col })));
    return {
      entry, sections, lines, notes: imageNotes,
      symbols: [...symbols.filter((s) => !s.global), ...symbols.filter((s) => s.global)],
    };
  });

describe('random images', () => {
  it('round-trip through writeElf32 and readElf32', () => {
    fc.assert(fc.property(arbImage, (image) => {
      const file = expectElf(readElf32(writeElf32(image)));
      expect(elfToImage(file)).toEqual(image);
      for (const p of file.programHeaders.filter((ph) => ph.type === PT_LOAD)) {
        expect(p.offset % 0x1000).toBe(p.vaddr % 0x1000);
      }
    }), { numRuns: 500 });
  });

  it('are accepted by readelf and objdump without warnings', () => {
    fc.assert(fc.property(arbImage, (image) => {
      const path = writeTemp('random.elf', writeElf32(image));
      tool('readelf', ['-a', '-W', '-n', '--debug-dump=decodedline', path]);
      tool('objdump', ['-x', '-d', '--dwarf=decodedline', path]);
    }), { numRuns: 25 });
  });
});

describe('writeElf32 rejects inconsistent images', () => {
  it('throws RangeError with the reason', () => {
    const base = sampleImage();
    const bad = (patch: Partial<Image>) => () => writeElf32({ ...base, ...patch });
    expect(bad({ symbols: [{ ...sampleSymbols[0], section: '.nope' }] })).toThrow(/unknown section \.nope/);
    expect(bad({ sections: [{ ...base.sections[1], size: 99 }] })).toThrow(/has 15 bytes/);
    expect(bad({ sections: [{ ...base.sections[1], align: 3 }] })).toThrow(/power of two/);
    expect(bad({ entry: -1 })).toThrow(/entry point/);
  });
});

describe('notes', () => {
  it('encodes name and descriptor padded to 4 bytes', () => {
    const bytes = encodeNote('Xen', 6, stringDesc('linux'));
    expect([...bytes]).toEqual([
      4, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0,
      0x58, 0x65, 0x6e, 0,
      0x6c, 0x69, 0x6e, 0x75, 0x78, 0, 0, 0,
    ]);
    expect(decodeNotes(bytes)).toEqual([{ name: 'Xen', type: 6, desc: stringDesc('linux') }]);
  });

  it('reads numeric and string descriptors', () => {
    expect(noteNumber(u32Desc(0xc0000000))).toBe(0xc0000000);
    expect(noteNumber(u64Desc(0x1_0000_0000))).toBe(0x1_0000_0000);
    expect(noteBigInt(u64Desc(0xffffffff80000000n))).toBe(0xffffffff80000000n);
    expect(isDecodeError(noteNumber(u64Desc(0xffffffff80000000n)))).toBe(true);
    expect(isDecodeError(noteNumber(new Uint8Array(3)))).toBe(true);
    expect(noteString(stringDesc('xen-3.0'))).toBe('xen-3.0');
    expect(noteString(Uint8Array.from([0x61, 0x62]))).toBe('ab');
  });

  it('decodes what it encodes', () => {
    const note = fc.record({
      name: fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0')),
      type: fc.nat({ max: 0xffffffff }),
      desc: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(fc.property(fc.array(note, { maxLength: 6 }), (notes) => {
      expect(decodeNotes(encodeNotes(notes))).toEqual(notes);
    }));
  });

  it('reports errors at the offending offset and never throws', () => {
    const two = encodeNotes(xenNotes.slice(0, 2));
    const second = 1000 + encodeNote('Xen', 6, xenNotes[0].desc).length;
    // Cut inside the second descriptor: reported at its descsz field.
    expect(decodeNotes(two.slice(0, two.length - 4), 1000)).toMatchObject({ kind: 'error', offset: second + 4 });
    // Cut inside the second name: reported at the start of the entry.
    expect(decodeNotes(two.slice(0, two.length - 10), 1000)).toMatchObject({ offset: second, message: expect.stringContaining('note name size') });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      decodeNotes(bytes);
    }), { numRuns: FUZZ_RUNS });
  });
});

describe('DWARF line table', () => {
  const files = ['boot.asm', 'lib/io.asm', '/abs/dir/x.asm', 'lib/deep/y.inc', 'C:\\src\\win.asm'];
  const row = fc.record({
    address: fc.oneof(fc.nat({ max: 0x3000 }).map((a) => 0xc0000000 + a), fc.nat({ max: 0xffffffff })),
    file: fc.constantFrom(...files),
    line: fc.nat({ max: 100000 }),
    column: fc.nat({ max: 300 }),
  });

  it('round-trips rows (last row per address wins)', () => {
    fc.assert(fc.property(fc.array(row, { maxLength: 60 }), (rows) => {
      const sorted = normalizeRows(rows);
      const end = sorted.length ? sorted[sorted.length - 1].address + 3 : 0;
      const table = decodeDebugLine(encodeDebugLine(rows, { endAddress: Math.min(end, 0x1_0000_0000) }));
      if (isDecodeError(table)) throw new Error(table.message);
      expect(table.rows).toEqual(sorted);
    }));
  });

  it('keeps the last of several rows at one address', () => {
    const rows: LineRow[] = [
      { address: 0x10, file: 'a.asm', line: 1, column: 1 },
      { address: 0x10, file: 'a.asm', line: 2, column: 1 },
      { address: 0x12, file: 'a.asm', line: 3, column: 1 },
    ];
    const table = decodeDebugLine(encodeDebugLine(rows, { endAddress: 0x14 }));
    expect(isDecodeError(table) ? table : table.rows.map((r) => r.line)).toEqual([2, 3]);
  });

  it('splits sequences at range boundaries', () => {
    const rows: LineRow[] = [
      { address: 0x1000, file: 'a.asm', line: 1, column: 1 },
      { address: 0x1002, file: 'a.asm', line: 2, column: 1 },
      { address: 0x5000, file: 'a.asm', line: 9, column: 1 },
    ];
    const ranges = [{ start: 0x1000, end: 0x1010 }, { start: 0x5000, end: 0x5004 }];
    const table = decodeDebugLine(encodeDebugLine(rows, { endAddress: 0x5004, ranges }));
    expect(isDecodeError(table) ? table : table.sequences).toEqual([{ start: 0x1000, end: 0x1010 }, { start: 0x5000, end: 0x5004 }]);
  });

  it('is compact: special opcodes for small steps', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ address: 0x1000 + 3 * i, file: 'a.asm', line: i + 1, column: 0 }));
    const bytes = encodeDebugLine(rows, { endAddress: 0x1000 + 300 });
    // header (~40 bytes) + set_address + one byte per row + end
    expect(bytes.length).toBeLessThan(160);
  });

  it('splits and joins paths consistently', () => {
    expect(splitPath('lib/io.asm')).toEqual({ dir: 'lib', base: 'io.asm' });
    expect(splitPath('/x.asm')).toEqual({ dir: '/', base: 'x.asm' });
    expect(splitPath('boot.asm')).toEqual({ dir: '', base: 'boot.asm' });
    for (const f of [...files, '/x.asm', './a.asm', 'a/b/c.asm']) {
      const { dir: d, base } = splitPath(f);
      expect(joinPath(d, base)).toBe(f);
    }
  });

  it('never throws on random or mutated input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      decodeDebugLine(bytes);
    }), { numRuns: FUZZ_RUNS });
    const valid = encodeDebugLine(sampleLines, { endAddress: DATA + 8 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 5 }), (muts) => {
      const b = valid.slice();
      for (const [at, v] of muts) b[at] = v;
      const started = Date.now();
      decodeDebugLine(b);
      expect(Date.now() - started).toBeLessThan(1000);
    }), { numRuns: FUZZ_RUNS });
  });
});
