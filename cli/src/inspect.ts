// Human-readable views of assembled guests: an ELF summary (sections, Xen notes) and a
// disassembly with symbols and the source lines from the DWARF line table.

import { existsSync, readFileSync } from 'node:fs';
import {
  BUILTIN_PREFIX, builtinInclude, disassemble, isElfError, noteNumber, noteString, readElf32,
  type Image, type ImageSymbol, type LineRow,
} from '../../asm/src/index.js';
import { isDecodeError } from '../../asm/src/elf/bytes.js';
import {
  hypercallByNumber, xenConstant, xenElfNote, XEN_ELFNOTES, XEN_ELFNOTE_NAME, type DecodedInstruction,
} from '../../isa/src/index.js';

const hex = (n: number, width = 8) => `0x${(n >>> 0).toString(16).padStart(width, '0')}`;

/** Labels by address: the name to show at an address, and the nearest one before it. */
class Labels {
  private readonly byAddress = new Map<number, string>();
  private readonly sorted: readonly ImageSymbol[];

  constructor(symbols: readonly ImageSymbol[]) {
    this.sorted = symbols.filter((s) => s.section !== null).sort((a, b) => a.value - b.value);
    for (const s of this.sorted) {
      // Prefer `func` over `func.local` where both name one address.
      const had = this.byAddress.get(s.value);
      if (had === undefined || (had.includes('.') && !s.name.includes('.'))) this.byAddress.set(s.value, s.name);
    }
  }

  at(address: number): string | undefined {
    return this.byAddress.get(address);
  }

  /** The label at or before `address`, as name + offset. */
  nearest(address: number): { name: string; offset: number } | undefined {
    let lo = 0;
    let hi = this.sorted.length - 1;
    let best: ImageSymbol | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].value <= address) {
        best = this.sorted[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best ? { name: this.at(best.value) ?? best.name, offset: address - best.value } : undefined;
  }
}

/** One line per Xen note: its name and decoded value. */
export function describeNotes(image: Image): string[] {
  const labels = new Labels(image.symbols);
  const out: string[] = [];
  for (const n of image.notes) {
    if (n.name !== XEN_ELFNOTE_NAME) continue;
    const def = XEN_ELFNOTES.find((d) => d.value === n.type);
    const label = (def?.name.replace('XEN_ELFNOTE_', '') ?? `type ${n.type}`).padEnd(16);
    if (def?.desc === 'string') {
      out.push(`  ${label} "${noteString(n.desc)}"`);
      continue;
    }
    const v = noteNumber(n.desc);
    if (isDecodeError(v)) out.push(`  ${label} <${v.message}>`);
    else {
      // ENTRY and HYPERCALL_PAGE are addresses of code: name them.
      const isCode = n.type === xenElfNote('ENTRY')?.value || n.type === xenElfNote('HYPERCALL_PAGE')?.value;
      const sym = isCode ? labels.at(v) : undefined;
      out.push(`  ${label} ${hex(v)}${sym ? ` (${sym})` : ''}`);
    }
  }
  return out;
}

export function describeImage(image: Image, fileSize: number): string {
  const entrySym = new Labels(image.symbols).at(image.entry);
  const lines = [`ELF32 EM_386 executable, ${fileSize} bytes, entry ${hex(image.entry)}${entrySym ? ` (${entrySym})` : ''}`, 'sections:'];
  for (const s of image.sections) {
    const flags = `r${s.write ? 'w' : '-'}${s.exec ? 'x' : '-'}`;
    lines.push(`  ${s.name.padEnd(12)} ${hex(s.vaddr)}  ${String(s.size).padStart(7)} bytes  ${flags}  ${s.kind}`);
  }
  const notes = describeNotes(image);
  lines.push(notes.length ? 'Xen notes (.note.Xen):' : 'Xen notes: none (a domain builder needs at least GUEST_OS, XEN_VERSION and LOADER)');
  lines.push(...notes);
  lines.push(`symbols: ${image.symbols.length}, line table: ${image.lines.length} rows`);
  return lines.join('\n') + '\n';
}

/** Source text of file:line, when the file can be read. */
function sourceLine(cache: Map<string, string[] | null>, row: LineRow): string | undefined {
  if (!cache.has(row.file)) {
    const builtin = row.file.startsWith(BUILTIN_PREFIX) ? builtinInclude(row.file.slice(BUILTIN_PREFIX.length)) : undefined;
    const text = builtin ?? (existsSync(row.file) ? readFileSync(row.file, 'utf8') : undefined);
    cache.set(row.file, text === undefined ? null : text.split(/\r?\n/));
  }
  return cache.get(row.file)?.[row.line - 1]?.trim();
}

/**
 * Names the hypercall an instruction makes: `int 0x82` after `mov eax, N`, or a call into
 * the hypercall page (`hypercall_page + N*32`).
 */
function hypercallNotes(symbols: readonly ImageSymbol[]) {
  const page = symbols.find((s) => s.name === 'hypercall_page')?.value;
  const stub = xenConstant('HYPERCALL_STUB_SIZE')?.value ?? 32;
  const vector = xenConstant('HYPERCALL_VECTOR')?.value ?? 0x82;
  let eax: number | undefined;
  const name = (n: number) => `hypercall ${hypercallByNumber(n)?.name ?? `#${n} (unknown: -ENOSYS)`}`;
  return {
    note(insn: DecodedInstruction | null): string | undefined {
      if (!insn) return undefined;
      const [a, b] = insn.operands;
      const m = insn.form.mnemonic;
      if (m === 'int' && a?.type === 'imm' && a.value === vector) return eax === undefined ? 'hypercall (eax not set just before)' : name(eax);
      if (m === 'call' && a?.type === 'rel' && page !== undefined && a.target >= page && a.target < page + 4096 && (a.target - page) % stub === 0) {
        return name((a.target - page) / stub);
      }
      // Track eax through `mov eax, imm`; anything else that writes eax forgets it.
      if (m === 'mov' && a?.type === 'reg' && a.reg.name === 'eax') eax = b?.type === 'imm' ? b.value : undefined;
      else if (a?.type === 'reg' && a.reg.name === 'eax') eax = undefined;
      return undefined;
    },
  };
}

/** Zero runs at least this long are shown as `...`, as objdump does. */
const ZERO_RUN = 16;

function disassembleSection(bytes: Uint8Array, base: number, symbols: readonly ImageSymbol[], rows: readonly LineRow[]): string[] {
  const out: string[] = [];
  const byAddress = new Map(rows.map((r) => [r.address, r]));
  const cache = new Map<string, string[] | null>();
  const labels = new Labels(symbols);
  const symbol = (address: number) => labels.nearest(address);
  const hypercalls = hypercallNotes(symbols);
  let off = 0;
  while (off < bytes.length) {
    let zeros = 0;
    while (off + zeros < bytes.length && bytes[off + zeros] === 0) zeros++;
    if (zeros >= ZERO_RUN && !labels.at(base + off + 1)) {
      const name = labels.at(base + off);
      if (name) out.push(`\n${hex(base + off)} <${name}>:`);
      out.push(`  ... ${zeros} zero bytes`);
      off += zeros;
      continue;
    }
    const chunkEnd = Math.min(bytes.length, off + Math.max(1, nextZeroRun(bytes, off)));
    for (const line of disassemble(bytes.subarray(off, chunkEnd), base + off, { symbol })) {
      const name = labels.at(line.address);
      if (name) out.push(`\n${hex(line.address)} <${name}>:`);
      const row = byAddress.get(line.address);
      if (row) {
        const text = sourceLine(cache, row);
        out.push(`                                        ; ${row.file.split('/').pop()}:${row.line}${text ? `  ${text}` : ''}`);
      }
      const raw = Array.from(line.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
      const note = hypercalls.note(line.insn);
      out.push(`  ${(line.address >>> 0).toString(16).padStart(8, '0')}:  ${raw.padEnd(24)} ${line.text}${note ? `  ; ${note}` : ''}`);
    }
    off = chunkEnd;
  }
  return out;
}

/** Offset (relative to `from`) where the next run of ZERO_RUN zero bytes starts. */
function nextZeroRun(bytes: Uint8Array, from: number): number {
  let run = 0;
  for (let i = from; i < bytes.length; i++) {
    run = bytes[i] === 0 ? run + 1 : 0;
    if (run >= ZERO_RUN) return i - ZERO_RUN + 1 - from;
  }
  return bytes.length - from;
}

/** Disassembles an ELF32 file's executable sections, or a flat binary loaded at `org`. */
export function disassembleFile(bytes: Uint8Array, org: number, name: string): string | { error: string } {
  const isElf = bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) return `${name}: flat binary at ${hex(org)}\n${disassembleSection(bytes, org, [], []).join('\n')}\n`;
  const elf = readElf32(bytes);
  if (isElfError(elf)) return { error: `not a valid ELF32 file: ${elf.message} (at byte ${elf.offset})` };
  const out = [`${name}: ELF32, entry ${hex(elf.entry)}`];
  for (const s of elf.sections) {
    if (!s.exec || s.kind !== 'progbits') continue;
    out.push('', `Disassembly of section ${s.name}:`);
    out.push(...disassembleSection(s.bytes, s.vaddr, elf.symbols, elf.lines ?? []));
  }
  return out.join('\n') + '\n';
}
