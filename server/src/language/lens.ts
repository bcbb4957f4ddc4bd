// Code lenses from the analysis: on each loop that enters Xen, how many hypercall sites
// it holds or reaches through the functions it calls and, when its trip count is known,
// how many times that enters the hypervisor;
// on each function (a call target) the number of references to its label.

import type { Context } from '../analysis/context.js';
import type { Loop } from '../analysis/cfg.js';
import type { Instr } from '../analysis/program.js';
import { rangeOf } from '../analysis/text.js';
import { runsOf, TRIP_COUNT_BUDGET, tripCount, type TripCount } from '../analysis/tripcount.js';
import type { Definition, Range, SymbolIndex } from './symbols.js';

export interface Lens {
  range: Range;
  title: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Lenses for the document `path` (the analysed file). `references` counts the places each
 * definition is used (its definition not included), by name.
 */
export function codeLenses(ctx: Context, index: SymbolIndex, path: string, references: (defs: readonly Definition[]) => ReadonlyMap<string, number>): Lens[] {
  const { cfg, program } = ctx;
  const out: Lens[] = [];
  const budget = { left: TRIP_COUNT_BUDGET };
  const headers = new Set<number>();
  const called = calledSites(ctx);
  for (const l of cfg.loops) {
    if (headers.has(l.header)) continue;
    const sites = ctx.sites.filter((s) => l.blocks.has(cfg.blockOf[s.instr]));
    // and those of the functions it calls (each once)
    const via = new Set<number>();
    for (const b of l.blocks) for (const e of cfg.blocks[b].succ) if (e.kind === 'call' && e.callee >= 0) for (const i of called(e.callee)) via.add(i);
    for (const s of sites) via.delete(s.instr);
    if (sites.length === 0 && via.size === 0) continue;
    const range = placeOf(ctx, index, path, program.instrs[cfg.blocks[l.header].first]);
    if (!range) continue;
    headers.add(l.header);
    const k = sites.length + via.size;
    out.push({ range, title: `${plural(k, 'hypercall')} in this loop${via.size ? ` (${via.size} in the functions it calls)` : ''}` });
    const trip = tripCount(ctx.df, l, budget);
    if (trip && trip.iterations >= 1) {
      out.push({ range, title: via.size ? `loop of ${trip.only ? '' : 'up to '}${plural(trip.iterations, 'iteration')}` : tripTitle(ctx, l, sites.map((s) => cfg.blockOf[s.instr]), trip) });
    }
  }
  const functions = new Map<string, Definition>();
  for (const fn of cfg.functions) {
    const entry = program.instrs[cfg.blocks[fn.entry].first];
    for (const sym of program.labelsAt.get(entry.address) ?? []) {
      const d = index.definitions.get(sym.name);
      if (d && d.kind === 'label' && d.file === path) functions.set(d.name, d);
    }
  }
  const counts = references([...functions.values()]);
  for (const d of functions.values()) out.push({ range: d.range, title: plural(counts.get(d.name) ?? 0, 'reference') });
  return out.sort((a, b) => a.range.start.line - b.range.start.line);
}

/** The hypercall sites (instruction indices) a function makes, itself or in what it calls; made when first asked. */
function calledSites(ctx: Context): (fn: number) => ReadonlySet<number> {
  const { cfg } = ctx;
  const memo = new Map<number, Set<number>>();
  const own = cfg.functions.map(() => [] as number[]);
  for (const s of ctx.sites) for (const f of cfg.functionsOf[cfg.blockOf[s.instr]]) own[f].push(s.instr);
  const of = (fn: number): Set<number> => {
    let set = memo.get(fn);
    if (set) return set;
    memo.set(fn, (set = new Set(own[fn]))); // set before the callees: recursion ends here
    for (const b of cfg.functions[fn].blocks) for (const e of cfg.blocks[b].succ) if (e.kind === 'call' && e.callee >= 0) for (const i of of(e.callee)) set.add(i);
    return set;
  };
  return of;
}

/**
 * `loop of N iterations → M hypervisor entries`: exact only when every site runs once on
 * every iteration (outside inner loops, dominating the back edges, not in a header that
 * also runs on the way out) and the counted exit is the loop's only one; else "up to".
 */
function tripTitle(ctx: Context, l: Loop, blocks: number[], trip: TripCount): string {
  const { cfg } = ctx;
  const iterations = `${trip.only ? '' : 'up to '}${plural(trip.iterations, 'iteration')}`;
  const once = blocks.every((b) => cfg.loopOf[b] === l.id && (b !== l.header || l.blocks.size === 1));
  if (!once) return `loop of ${iterations}`;
  const every = trip.only && blocks.every((b) => l.latches.every((x) => cfg.dominates(b, x)));
  const entries = blocks.reduce((n, b) => n + runsOf(trip, l, b), 0);
  return `loop of ${iterations} → ${every ? '' : 'up to '}${plural(entries, 'hypervisor entry', 'hypervisor entries')}`;
}

/** Where a lens for code starting at an instruction goes: a label of it in the document, else its line there. */
function placeOf(ctx: Context, index: SymbolIndex, path: string, ins: Instr): Range | null {
  for (const sym of ctx.program.labelsAt.get(ins.address) ?? []) {
    const d = index.definitions.get(sym.name);
    if (d && d.file === path) return d.range;
  }
  // written in the document, or a macro called there (not an included file's code)
  const frame = ins.line.stack[0];
  if (frame && frame.kind !== 'macro') return null;
  const file = ctx.program.files[ins.user.file];
  return ins.user.file === 0 && file ? rangeOf(file, ins.user.start, ins.user.end) : null;
}
