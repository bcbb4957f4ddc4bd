// The Page Tables panel's model: a domain's page directory, each present slot with the L1
// table it points at, and (for the slots the user opened) that table's present entries and
// their frames, with the rights both levels give, entries changed since the previous stop
// marked, and where each frame's memory is.

import type { FrameInfo, FrameTypeName, PageDirectoryEntryInfo, PageFlagName, PageTableEntryInfo, PageTablesBody } from '../../../../protocol/src/index.js';
import { hex, shortHex } from './format.js';
import { frameText, frameTypeText, ownerText } from './frames.js';
import { frameReference, memoryReference } from './memoryReference.js';

export interface FrameCell {
  mfn: string;
  pfn: string;
  owner: string;
  type: FrameTypeName;
  typeText: string;
  pinned: boolean;
  /** Everything in one line (a tooltip). */
  title: string;
  /** The frame's memory (machine address). */
  reference: string;
}

export interface PageTableRow {
  /** `L2[768]` or `L2[768]/L1[5]`: stable across stops. */
  key: string;
  level: 1 | 2;
  index: number;
  /** First virtual address, and the range it covers. */
  va: string;
  range: string;
  raw: string;
  /** Short flag letters: P RW US A D G ... */
  flags: string;
  /** What the entry allows, both levels together for an L1 entry: `rw`, `ro`, with `user` when ring 3 may. */
  access: string;
  frame: FrameCell | null;
  /** A grant mapping from another domain. */
  grantFrom?: number;
  /** A slot of Xen's hole. */
  xen?: boolean;
  /** The virtual address's memory (for a mapped page). */
  reference?: string;
  /** Entry or frame differs from the previous stop (or is new). */
  changed: boolean;
  /** L2 rows: whether the user opened it, its L1 entries, and whether some were left out. */
  open?: boolean;
  entries?: PageTableRow[];
  truncated?: boolean;
}

export interface PageTablesModel {
  domain: number;
  vcpu: number;
  title: string;
  cr3: string;
  directory: FrameCell;
  rows: PageTableRow[];
  /** Rows changed since the previous stop. */
  changes: number;
}

const FLAG_LETTERS: Partial<Record<PageFlagName, string>> = {
  present: 'P', rw: 'RW', user: 'US', pwt: 'PWT', pcd: 'PCD', accessed: 'A', dirty: 'D', pse: 'PS', pat: 'PAT', global: 'G',
};

const flagText = (flags: PageFlagName[]) => flags.map((f) => FLAG_LETTERS[f] ?? f).join(' ');

function accessText(flags: PageFlagName[], parent?: PageFlagName[]): string {
  const both = (f: PageFlagName) => flags.includes(f) && (parent === undefined || parent.includes(f));
  return `${both('rw') ? 'rw' : 'ro'}${both('user') ? ' user' : ''}`;
}

function frameCell(f: FrameInfo, xenId: number): FrameCell {
  return {
    mfn: shortHex(f.mfn), pfn: f.pfn >= 0 ? shortHex(f.pfn) : '-', owner: ownerText(f.owner, xenId), type: f.type,
    typeText: frameTypeText(f.type), pinned: f.pinned, title: frameText(f, xenId), reference: frameReference(f.mfn),
  };
}

/** What "changed" compares: the entry and what the frame table says of its frame. */
const signature = (e: PageTableEntryInfo) => JSON.stringify([e.raw, e.frame?.type, e.frame?.typeCount, e.frame?.pinned, e.grantFrom]);

function signatures(body: PageTablesBody | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of body?.entries ?? []) {
    m.set(`L2[${d.index}]`, signature(d));
    for (const e of d.entries ?? []) m.set(`L2[${d.index}]/L1[${e.index}]`, signature(e));
  }
  return m;
}

function row(key: string, level: 1 | 2, e: PageTableEntryInfo, xenId: number, domain: number, changed: (key: string, e: PageTableEntryInfo) => boolean, parent?: PageDirectoryEntryInfo): PageTableRow {
  const size = level === 2 ? 1 << 22 : 1 << 12;
  const r: PageTableRow = {
    key, level, index: e.index, va: hex(e.va), range: `${hex(e.va)}–${hex(e.va + size - 1)}`, raw: hex(e.raw), flags: flagText(e.flags),
    access: accessText(e.flags, parent?.flags), frame: e.frame ? frameCell(e.frame, xenId) : null, changed: changed(key, e),
  };
  if (e.grantFrom !== undefined) r.grantFrom = e.grantFrom;
  if (level === 1 && e.frame) r.reference = memoryReference({ space: 'virtual', domain, address: e.va });
  return r;
}

/** The panel's model of a stop; `before` is the previous stop's body (for the changes). */
export function pageTablesModel(now: PageTablesBody, before?: PageTablesBody): PageTablesModel {
  const old = before && before.domain === now.domain && before.vcpu === now.vcpu ? signatures(before) : null;
  let changes = 0;
  // Without a previous stop nothing is marked; an entry the previous stop did not list (a slot it had closed) is compared only if it listed the slot.
  const changed = (key: string, e: PageTableEntryInfo) => {
    if (old === null) return false;
    const slotKey = key.split('/')[0];
    if (key !== slotKey && before!.entries.find((d) => `L2[${d.index}]` === slotKey)?.entries === undefined) return false;
    const c = old.get(key) !== signature(e);
    if (c) changes++;
    return c;
  };
  const rows = now.entries.map((d) => {
    const slotKey = `L2[${d.index}]`;
    const r = row(slotKey, 2, d, now.xenId, now.domain, changed);
    if (d.xen) r.xen = true;
    r.open = d.entries !== undefined;
    if (d.entries) r.entries = d.entries.map((e) => row(`${slotKey}/L1[${e.index}]`, 1, e, now.xenId, now.domain, changed, d));
    if (d.truncated) r.truncated = true;
    return r;
  });
  return {
    domain: now.domain, vcpu: now.vcpu, title: `dom${now.domain} vCPU ${now.vcpu}`, cr3: hex(now.cr3),
    directory: frameCell(now.directory, now.xenId), rows, changes,
  };
}
