// The workspace's files for navigation: a symbol index per source file of the workspace
// (each assembled on its own, so with what it includes), built in the background and
// rebuilt when a file it read changes; and the queries that combine several indexes —
// the open documents' first, as the freshest — for workspace symbols, definitions and
// references across files that include each other, whether or not they are open.

import { BUILTIN_PREFIX } from '../../../asm/src/index.js';
import { nameAt, type Definition, type Occurrence, type Position, type SymbolIndex } from './symbols.js';

/** Source files the workspace index reads. */
export const SOURCE_EXTENSIONS: readonly string[] = ['.xasm', '.inc'];

/** More files than this in the workspace folders are not indexed. */
export const MAX_WORKSPACE_FILES = 2000;

/** A file's index, and every path its assembly asked for (found or not: a file that appears later changes it too). */
export interface Built {
  index: SymbolIndex;
  reads: ReadonlySet<string>;
}

export class WorkspaceIndex {
  /** By path: the index, null when it could not be built, or undefined while it is to be (re)built. */
  private readonly entries = new Map<string, Built | null | undefined>();

  /** `built` hears of each index built (a file that includes an open document may now be known). */
  constructor(private readonly build: (path: string) => Built | null, private readonly built?: (index: SymbolIndex) => void) {}

  add(paths: Iterable<string>): void {
    for (const p of paths) {
      if (this.entries.size >= MAX_WORKSPACE_FILES) break;
      if (!this.entries.has(p)) this.entries.set(p, undefined);
    }
  }

  /** A file that is gone: out of the index (the indexes that read it are rebuilt when next used). */
  remove(path: string): void {
    this.changed(path);
    this.entries.delete(path);
  }

  /** The files in the index. */
  paths(): string[] {
    return [...this.entries.keys()];
  }

  /** A file's text changed (or it appeared or went): every index whose assembly asked for it is rebuilt when next used. */
  changed(path: string): void {
    for (const [p, built] of this.entries) if (p === path || built?.reads.has(path)) this.entries.set(p, undefined);
  }

  /** The entry of `p`, built if need be. */
  private entry(p: string): Built | null {
    let built = this.entries.get(p);
    if (built === undefined) this.entries.set(p, (built = this.safeBuild(p)));
    return built;
  }

  /**
   * A file whose assembly read `path` (includes it), with its index: among the indexes
   * built so far (building the rest here would stall an analysis on a large workspace;
   * the background builds them, and `built` hears of each).
   */
  includerOf(path: string): { path: string; index: SymbolIndex } | null {
    let best: { path: string; index: SymbolIndex } | null = null;
    for (const [p, built] of this.entries) {
      if (p !== path && built?.index.files.has(path) && (!best || outer(built.index, best.index))) best = { path: p, index: built.index };
    }
    return best;
  }

  /** Builds up to `n` indexes not built yet; whether any are left. */
  step(n: number): boolean {
    for (const [p, built] of this.entries) {
      if (built !== undefined) continue;
      if (n-- <= 0) return true;
      this.entry(p);
    }
    return false;
  }

  /** Every index, built (paths for which `skip` holds left out). */
  indexes(skip: (path: string) => boolean = () => false): SymbolIndex[] {
    const out: SymbolIndex[] = [];
    for (const p of this.entries.keys()) {
      const built = skip(p) ? null : this.entry(p);
      if (built) out.push(built.index);
    }
    return out;
  }

  private safeBuild(path: string): Built | null {
    let built: Built | null;
    try {
      built = this.build(path);
    } catch {
      return null;
    }
    if (built) this.built?.(built.index);
    return built;
  }
}

const real = (file: string) => !file.startsWith(BUILTIN_PREFIX);
const key = (file: string, p: Position) => `${file}:${p.line}:${p.column}`;

/** Whether the query's characters appear in the name in order (any case), as editors filter. */
export function matchesQuery(name: string, query: string): boolean {
  const n = name.toLowerCase();
  let at = 0;
  for (const c of query.toLowerCase()) {
    at = n.indexOf(c, at) + 1;
    if (at === 0) return false;
  }
  return true;
}

/**
 * Definitions matching a query, across indexes in order of trust: the definitions in a
 * file come from the first index that read that file.
 */
export function workspaceSymbols(indexes: Iterable<SymbolIndex>, query: string, limit = 1000): Definition[] {
  const out: Definition[] = [];
  const covered = new Set<string>();
  for (const index of indexes) {
    for (const d of index.definitions.values()) {
      if (out.length >= limit) return out;
      if (real(d.file) && !covered.has(d.file) && matchesQuery(d.name, query)) out.push(d);
    }
    for (const f of index.files.keys()) covered.add(f);
  }
  return out;
}

/** The definition of the name written at `p` in `path`: from the first index that has that place as a use of a defined name. */
export function definitionAt(indexes: Iterable<SymbolIndex>, path: string, p: Position): { occurrence: Occurrence; definition: Definition } | null {
  for (const index of indexes) {
    if (!index.files.has(path)) continue;
    const occurrence = nameAt(index, path, p);
    const definition = occurrence && index.definitions.get(occurrence.name);
    if (occurrence && definition) return { occurrence, definition };
  }
  return null;
}

/**
 * Every place a definition's name is written meaning that definition (the definition
 * included), in all files of all indexes that see it; each file's places from the first
 * such index that read the file.
 */
export function referencesTo(indexes: Iterable<SymbolIndex>, d: Definition): Occurrence[] {
  return referencesOf(indexes, [d]).get(d.name) ?? [];
}

/** referencesTo for several definitions at once (one pass over each index), by name. */
export function referencesOf(indexes: Iterable<SymbolIndex>, defs: readonly Definition[]): Map<string, Occurrence[]> {
  const wanted = new Map(defs.map((d) => [d.name, d]));
  const out = new Map(defs.map((d): [string, Occurrence[]] => [d.name, []]));
  const seen = new Set<string>();
  /** name + file: places already taken from an earlier index. */
  const claimed = new Set<string>();
  for (const index of indexes) {
    const matching = new Set<string>();
    for (const [name, d] of wanted) {
      const here = index.definitions.get(name);
      if (here && isDefinition(here, d)) matching.add(name);
    }
    if (matching.size === 0) continue;
    for (const o of index.occurrences) {
      if (!matching.has(o.name) || !real(o.file) || claimed.has(`${o.name}\0${o.file}`)) continue;
      const k = `${o.name}\0${key(o.file, o.range.start)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.get(o.name)!.push(o);
    }
    for (const name of matching) for (const f of index.files.keys()) claimed.add(`${name}\0${f}`);
  }
  return out;
}

/** Whether an occurrence is the definition itself. */
export function isDefinition(o: Occurrence, d: Definition): boolean {
  return o.file === d.file && o.range.start.line === d.range.start.line && o.range.start.column === d.range.start.column;
}

/**
 * Of two files that include one (directly or through others), `a` is the outer one: it
 * reads more files (main.xasm, not the a.inc between it and b.inc), so its names are the
 * ones the included file can use.
 */
export function outer(a: SymbolIndex, b: SymbolIndex): boolean {
  return a.files.size > b.files.size;
}
