// A domain's program as the debugger sees it: symbols and the line table (from the ELF's
// DWARF .debug_line), plus, for programs assembled on the fly, the lines that invoked a
// macro (DWARF puts a macro's instructions on the lines of its body; a breakpoint on the
// invoking line must stop at them too).

import type { Image, LineRow } from '../../asm/src/index.js';

export interface Location {
  file: string;
  line: number;
  column: number;
}

export class Program {
  /** Code rows (in executable sections), by address. */
  private readonly rows: LineRow[];
  /** Labels in allocated sections, by address. */
  private readonly labels: { name: string; address: number }[];
  private readonly byName = new Map<string, number>();
  private readonly code: { start: number; end: number }[];
  /** (file, line) → addresses where a run of that line's instructions starts. */
  private readonly lineStarts = new Map<string, number[]>();

  constructor(readonly image: Image, callSites: readonly LineRow[] = []) {
    this.code = image.sections.filter((s) => s.exec && s.alloc).map((s) => ({ start: s.vaddr, end: s.vaddr + s.size }));
    this.rows = image.lines.filter((r) => this.isCode(r.address)).sort((a, b) => a.address - b.address);
    for (const s of image.symbols) this.byName.set(s.name, s.value >>> 0);
    const allocated = image.sections.filter((s) => s.alloc);
    this.labels = image.symbols
      .filter((s) => s.section !== null && allocated.some((x) => x.name === s.section))
      .map((s) => ({ name: s.name, address: s.value >>> 0 }))
      .sort((a, b) => a.address - b.address);
    for (const r of [...this.rows, ...callSites.filter((r) => this.isCode(r.address))]) {
      const key = lineKey(r.file, r.line);
      const list = this.lineStarts.get(key) ?? [];
      if (!list.includes(r.address)) list.push(r.address);
      this.lineStarts.set(key, list);
    }
    for (const list of this.lineStarts.values()) list.sort((a, b) => a - b);
  }

  get entry(): number {
    return this.image.entry >>> 0;
  }

  /** The source files the line table names. */
  get files(): string[] {
    return [...new Set(this.rows.map((r) => r.file))];
  }

  isCode(address: number): boolean {
    return this.code.some((c) => address >= c.start && address < c.end);
  }

  /** The source line of the instruction at `address` (null outside the program's code). */
  locate(address: number): Location | null {
    if (!this.isCode(address)) return null;
    const r = this.rows;
    let lo = 0, hi = r.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid].address <= address) (found = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    return found < 0 ? null : { file: r[found].file, line: r[found].line, column: r[found].column };
  }

  /** Whether `address` starts a row of the line table (the first instruction of a line's run). */
  isLineStart(address: number): boolean {
    const l = this.locate(address);
    return l !== null && (this.lineStarts.get(lineKey(l.file, l.line))?.includes(address) ?? false);
  }

  /** Addresses where the instructions of `file`:`line` start (empty: no code there). */
  addressesOf(file: string, line: number): number[] {
    return this.lineStarts.get(lineKey(file, line)) ?? [];
  }

  /** The nearest line at or after `line` in `file` with code, within `within` lines. */
  nextCodeLine(file: string, line: number, within = 0): number | null {
    for (let l = line; l <= line + within; l++) if (this.lineStarts.has(lineKey(file, l))) return l;
    return null;
  }

  symbol(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** The label at or before `address`, with the offset from it. */
  labelAt(address: number): { name: string; offset: number } | null {
    const l = this.labels;
    let lo = 0, hi = l.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (l[mid].address <= address) (found = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    if (found < 0) return null;
    // Prefer a non-local label (NASM's `.x` locals belong to the one before them).
    let k = found;
    while (k > 0 && l[k].name.startsWith('.') && l[k - 1].address === l[k].address) k--;
    return { name: l[k].name, offset: address - l[k].address };
  }

  /** The function containing `address`: the nearest non-local label at or before it. */
  functionAt(address: number): { name: string; start: number } | null {
    let best: { name: string; address: number } | null = null;
    for (const s of this.labels) {
      if (s.address > address) break;
      if (!s.name.includes('.') && this.isCode(s.address)) best = s;
    }
    return best && { name: best.name, start: best.address };
  }

  /** Labels (for completion). */
  get labelNames(): string[] {
    return this.labels.map((l) => l.name);
  }
}

function lineKey(file: string, line: number): string {
  return `${line}:${file}`;
}
