// The Frame Map panel's model: every machine frame as a cell of a grid, coloured by owner
// (Xen, free, each domain) with a band for its type and a mark when pinned, drawn as runs
// of equal neighbouring frames in a row (a few hundred shapes instead of one per frame).
// Frames whose owner, type or pin changed since the previous stop are their own runs.

import type { FrameMapBody, FrameTypeName } from '../../../../protocol/src/index.js';
import { count, plural, shortHex } from './format.js';
import { frameTypeText } from './frames.js';

/** Colours for domains, cycled (the stylesheet defines `owner-0`..`owner-7` for light and dark themes). */
export const DOMAIN_COLOURS = 8;

export interface FrameRun {
  /** First frame, its grid place, and how many frames. */
  mfn: number;
  row: number;
  col: number;
  length: number;
  /** `owner-xen`, `owner-free`, `owner-0`..: the fill. */
  ownerClass: string;
  /** `type-l1`, ...: the type band. */
  typeClass: string;
  pinned: boolean;
  changed: boolean;
  title: string;
}

export interface LegendEntry {
  cssClass: string;
  label: string;
  detail: string;
}

export interface FrameMapModel {
  columns: number;
  rows: number;
  runs: FrameRun[];
  owners: LegendEntry[];
  types: LegendEntry[];
  /** Frames whose owner, type or pin changed since the previous stop. */
  changes: number;
  summary: string;
}

/** The class of an owner: Xen and free frames have their own, domains cycle through the palette in id order. */
function ownerClasses(body: FrameMapBody): Map<number, string> {
  const m = new Map<number, string>();
  let next = 0;
  for (const o of body.owners) {
    m.set(o.owner, o.owner === body.xenId ? 'owner-xen' : o.owner < 0 ? 'owner-free' : `owner-${next++ % DOMAIN_COLOURS}`);
  }
  return m;
}

/** The frame map of a stop; `before` (the previous stop's body of the same window) marks the changed frames. */
export function frameMapModel(now: FrameMapBody, before?: FrameMapBody, columns = 128): FrameMapModel {
  const classes = ownerClasses(now);
  const names = new Map(now.owners.map((o) => [o.owner, o.name]));
  const typeName = (i: number): FrameTypeName => now.typeLegend[i] ?? 'none';
  const comparable = before !== undefined && before.start === now.start && before.owner.length === now.owner.length;
  // Type indices are per response: compare by name.
  const changedAt = (i: number) => comparable && (before.owner[i] !== now.owner[i] || before.typeLegend[before.type[i]] !== typeName(now.type[i]) || before.pinned[i] !== now.pinned[i]);
  const runs: FrameRun[] = [];
  let changes = 0;
  const n = now.owner.length;
  for (let i = 0; i < n;) {
    const changed = changedAt(i);
    let j = i + 1;
    // A run ends at the row's end or where anything shown differs.
    while (j < n && j % columns !== 0 && now.owner[j] === now.owner[i] && now.type[j] === now.type[i] && now.pinned[j] === now.pinned[i] && changedAt(j) === changed) j++;
    if (changed) changes += j - i;
    const mfn = now.start + i, type = typeName(now.type[i]);
    const owner = now.owner[i];
    runs.push({
      mfn, row: Math.floor(i / columns), col: i % columns, length: j - i,
      ownerClass: classes.get(owner) ?? 'owner-free', typeClass: `type-${type}`, pinned: now.pinned[i] === 1, changed,
      title: `mfn ${shortHex(mfn)}${j - i > 1 ? `–${shortHex(mfn + j - i - 1)}` : ''}: ${names.get(owner) ?? `dom${owner}`}, ${frameTypeText(type)}${now.pinned[i] ? ', pinned' : ''}${changed ? ' (changed)' : ''}`,
    });
    i = j;
  }
  const owners = now.owners.map((o) => ({
    cssClass: classes.get(o.owner)!, label: o.name,
    detail: `${plural(o.frames, 'frame')}${o.xenHeap ? ` (${count(o.xenHeap)} from Xen's heap)` : ''}`,
  }));
  const typeCounts = new Map<number, number>();
  for (const t of now.type) typeCounts.set(t, (typeCounts.get(t) ?? 0) + 1);
  const types = now.typeLegend.map((t, i) => ({ cssClass: `type-${t}`, label: frameTypeText(t), detail: plural(typeCounts.get(i) ?? 0, 'frame') }));
  const window = now.owner.length === now.total ? '' : ` (frames ${shortHex(now.start)}–${shortHex(now.start + n - 1)} shown)`;
  return {
    columns, rows: Math.ceil(n / columns), runs, owners, types, changes,
    summary: `${plural(now.total, 'machine frame')} of 4 KiB${window}`,
  };
}

/** The frame under a grid place (the renderer's hit test), or null past the end. */
export function frameAt(model: FrameMapModel, row: number, col: number): number | null {
  const run = model.runs.find((r) => r.row === row && col >= r.col && col < r.col + r.length);
  return run ? run.mfn + (col - run.col) : null;
}
