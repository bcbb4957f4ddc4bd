// A domain's program as the debugger sees it: symbols and the line table (from the ELF's
// DWARF .debug_line), plus, for programs assembled on the fly, the lines that invoked a
// macro. DWARF puts a macro's instructions on the lines of its body; the debugger shows
// the built-in xen.inc macros (HYPERCALL, ...) as the line that invoked them, like a
// library call, and steps through the user's own macros line by line. A breakpoint on an
// invoking line stops where its expansion starts.

import { BUILTIN_PREFIX, type Image, type LineRow } from '../../asm/src/index.js';

export interface Location {
  file: string;
  line: number;
  column: number;
}

const key = (file: string, line: number) => `${line}:${file}`;

/** The index of the last element of ascending `list` whose `at(x)` is at most `address` (-1: none). */
function lastAtOrBefore<T>(list: readonly T[], address: number, at: (x: T) => number): number {
  let lo = 0, hi = list.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (at(list[mid]) <= address) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  return found;
}

export class Program {
  /** Every instruction address the tables know, ascending. */
  private readonly addresses: number[];
  /** DWARF rows in code, by address. */
  private readonly rows: LineRow[];
  /** Per address: the innermost macro invocation outside the built-in includes. */
  private readonly site = new Map<number, LineRow>();
  /** (file, line) → addresses where a run of that line's instructions starts. */
  private readonly starts = new Map<string, number[]>();
  private readonly labels: { name: string; address: number }[];
  private readonly byName = new Map<string, number>();
  private readonly code: { start: number; end: number }[];
  /** Files with macro invocations that made code. */
  readonly callSiteFiles: string[];

  constructor(readonly image: Image, callSites: readonly LineRow[] = []) {
    this.code = image.sections.filter((s) => s.exec && s.alloc).map((s) => ({ start: s.vaddr, end: s.vaddr + s.size }));
    this.rows = image.lines.filter((r) => this.isCode(r.address)).sort((a, b) => a.address - b.address);
    const sites = callSites.filter((r) => this.isCode(r.address));
    for (const r of sites) if (!r.file.startsWith(BUILTIN_PREFIX)) this.site.set(r.address, r); // later = inner
    this.addresses = [...new Set([...this.rows.map((r) => r.address), ...sites.map((r) => r.address)])].sort((a, b) => a - b);
    this.callSiteFiles = [...new Set(sites.map((r) => r.file))];
    // Each view of where an instruction is (its own line, the line shown, every invocation
    // line around it) marks where runs of a line start.
    const views: Map<number, string>[] = [new Map(), new Map()];
    for (const a of this.addresses) {
      const own = this.own(a);
      if (own) views[0].set(a, key(own.file, own.line));
      const shown = this.locate(a);
      if (shown) views[1].set(a, key(shown.file, shown.line));
    }
    const bySite = new Map<string, Set<number>>();
    for (const r of sites) {
      const k = key(r.file, r.line);
      if (!bySite.has(k)) bySite.set(k, new Set());
      bySite.get(k)!.add(r.address);
    }
    const add = (k: string, a: number) => {
      const list = this.starts.get(k) ?? [];
      if (!list.includes(a)) list.push(a);
      this.starts.set(k, list);
    };
    this.addresses.forEach((a, i) => {
      const prev = i > 0 ? this.addresses[i - 1] : -1;
      for (const view of views) {
        const k = view.get(a);
        if (k !== undefined && view.get(prev) !== k) add(k, a);
      }
    });
    const index = new Map(this.addresses.map((a, i) => [a, i]));
    for (const [k, set] of bySite) {
      for (const a of set) {
        const i = index.get(a)!;
        if (i === 0 || !set.has(this.addresses[i - 1])) add(k, a);
      }
    }
    for (const list of this.starts.values()) list.sort((a, b) => a - b);
    for (const s of image.symbols) this.byName.set(s.name, s.value >>> 0);
    const allocated = new Set(image.sections.filter((s) => s.alloc).map((s) => s.name));
    this.labels = image.symbols
      .filter((s) => s.section !== null && allocated.has(s.section))
      .map((s) => ({ name: s.name, address: s.value >>> 0 }))
      .sort((a, b) => a.address - b.address);
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

  /** The DWARF row of the instruction at `address`. */
  private own(address: number): Location | null {
    if (!this.isCode(address)) return null;
    const found = lastAtOrBefore(this.rows, address, (r) => r.address);
    const r = this.rows[found];
    return found < 0 ? null : { file: r.file, line: r.line, column: r.column };
  }

  /** The line shown for the instruction at `address` (null outside the program's code). */
  locate(address: number): Location | null {
    const own = this.own(address);
    if (own === null || !own.file.startsWith(BUILTIN_PREFIX)) return own;
    const s = this.site.get(this.instructionAt(address));
    return s ? { file: s.file, line: s.line, column: s.column } : own;
  }

  /** The known instruction address at or before `address`. */
  private instructionAt(address: number): number {
    const found = lastAtOrBefore(this.addresses, address, (a) => a);
    return found < 0 ? -1 : this.addresses[found];
  }

  /** Whether `address` starts a run of the line shown for it (stepping by line stops there). */
  isLineStart(address: number): boolean {
    const l = this.locate(address);
    return l !== null && (this.starts.get(key(l.file, l.line))?.includes(address) ?? false);
  }

  /** Addresses where the instructions of `file`:`line` start (empty: no code there). */
  addressesOf(file: string, line: number): number[] {
    return this.starts.get(key(file, line)) ?? [];
  }

  /** The nearest line at or after `line` in `file` with code, within `within` lines. */
  nextCodeLine(file: string, line: number, within = 0): number | null {
    for (let l = line; l <= line + within; l++) if (this.starts.has(key(file, l))) return l;
    return null;
  }

  symbol(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** The label at or before `address`, with the offset from it (a non-local one where several share the address). */
  labelAt(address: number): { name: string; offset: number } | null {
    const l = this.labels;
    const found = lastAtOrBefore(l, address, (x) => x.address);
    if (found < 0) return null;
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
