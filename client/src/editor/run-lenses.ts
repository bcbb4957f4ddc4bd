// Code lenses from the last run: above each line of a document that made hypercalls, how
// many it made and which ("last run: 1,024 × mmu_update"), from the
// adapter's per-line counts (`xen/hypercallSites`). A line inside a loop shows the loop's
// total, since the count is per run, not per pass.

import type { HypercallSitesBody } from '../../../protocol/src/index.js';

export interface RunLens {
  /** 0-based, as the editor counts. */
  line: number;
  title: string;
  tooltip: string;
}

const count = (n: number) => n.toLocaleString('en-US');

/** The lenses for the document at `path` (the adapter's file names are absolute paths, compared as `samePath` says). */
export function runLenses(body: HypercallSitesBody, path: string, samePath: (a: string, b: string) => boolean = (a, b) => a === b): RunLens[] {
  const byLine = new Map<number, { count: number; errors: number; byHypercall: Map<string, number>; domains: Set<number> }>();
  for (const s of body.sites) {
    if (!samePath(s.file, path)) continue;
    const entry = byLine.get(s.line) ?? { count: 0, errors: 0, byHypercall: new Map<string, number>(), domains: new Set<number>() };
    byLine.set(s.line, entry);
    entry.count += s.count;
    entry.errors += s.errors;
    entry.domains.add(s.domain);
    for (const [name, n] of Object.entries(s.byHypercall)) entry.byHypercall.set(name, (entry.byHypercall.get(name) ?? 0) + n);
  }
  return [...byLine.entries()].sort(([a], [b]) => a - b).map(([line, e]) => {
    const names = [...e.byHypercall.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ×${count(n)}`).join(', ');
    const failed = e.errors > 0 ? `, ${count(e.errors)} failed` : '';
    const domains = e.domains.size > 1 ? ` (${e.domains.size} domains)` : '';
    return {
      line: line - 1,
      title: `last run: ${e.byHypercall.size === 1 ? `${count(e.count)} × ${[...e.byHypercall.keys()][0]}` : `${count(e.count)} hypercalls (${names})`}${failed}${domains}`,
      tooltip: `This line made ${names} in the last run (each is a guest→Xen transition).`,
    };
  });
}
