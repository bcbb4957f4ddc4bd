// The assembled program as the output writers see it: laid-out sections with final
// virtual addresses, symbols, the line table and the Xen ELF notes. Produced by the
// assembler, consumed by the ELF and flat-binary writers, and read back from ELF
// files (so the disassembler, the debugger and the domain builder share one shape).

export interface ImageSection {
  name: string;
  /** `nobits` sections (.bss) occupy memory but no file bytes. */
  kind: 'progbits' | 'nobits';
  /** Final virtual address of the first byte. */
  vaddr: number;
  /** Size in memory; for progbits equals bytes.length. */
  size: number;
  /** File contents (empty for nobits). */
  bytes: Uint8Array;
  align: number;
  write: boolean;
  exec: boolean;
  /** Loaded into memory. `.note.*` sections are loaded too (and also described by PT_NOTE), as in real PV kernels. */
  alloc: boolean;
}

export interface ImageSymbol {
  name: string;
  /** Absolute value (a virtual address for labels). */
  value: number;
  size: number;
  /** Name of the defining section, or null for absolute symbols (`equ`). */
  section: string | null;
  global: boolean;
  kind: 'func' | 'object' | 'notype';
}

/** One row of the line table: the instruction at `address` came from file:line:column (1-based). */
export interface LineRow {
  address: number;
  file: string;
  line: number;
  column: number;
}

/** One ELF note; `desc` is the raw descriptor bytes. */
export interface ImageNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface Image {
  entry: number;
  sections: ImageSection[];
  symbols: ImageSymbol[];
  /** Sorted by address; one row per emitted instruction or data directive. */
  lines: LineRow[];
  /** Notes to emit in the ELF's PT_NOTE segment (parsed from `.note.*` sections). */
  notes: ImageNote[];
}
