// Renders the Page Tables panel: the page directory's present slots, each openable to its
// L1 table's present entries; every frame a link to its memory.

import type { PanelHost } from '../src/views/models/panels.js';
import type { FrameCell, PageTableRow, PageTablesModel } from '../src/views/models/pageTables.js';
import { action, html, replace } from './dom.js';

const HEAD = ['', 'Index', 'Virtual range', 'Entry', 'Flags', 'Access', 'Frame', 'PFN', 'Owner', 'Type'];

function frameCells(doc: Document, f: FrameCell | null, host: PanelHost): HTMLTableCellElement[] {
  if (!f) return [html(doc, 'td', { colspan: 4, class: 'muted' }, 'beyond machine memory')];
  return [
    html(doc, 'td', { class: 'mono' }, action(doc, f.mfn, `${f.title}: open its memory`, () => host.post({ type: 'openMemory', reference: f.reference }))),
    html(doc, 'td', { class: 'mono' }, f.pfn),
    html(doc, 'td', {}, f.owner),
    html(doc, 'td', {}, html(doc, 'span', { class: `badge type-${f.type}`, title: f.title }, f.typeText), f.pinned ? html(doc, 'span', { class: 'badge pinned', title: 'pinned (MMUEXT_PIN_*_TABLE)' }, 'pinned') : null),
  ];
}

function rowElement(doc: Document, r: PageTableRow, host: PanelHost): HTMLTableRowElement {
  const cls = [`level-${r.level}`, r.changed ? 'changed' : '', r.xen ? 'xen' : ''].filter(Boolean).join(' ');
  const toggle = r.level === 2 && !r.xen
    ? action(doc, r.open ? '▾' : '▸', r.open ? 'close this page table' : 'open this page table', () => host.post({ type: 'toggleSlot', slot: r.index }), 'toggle')
    : null;
  const va = r.reference ? action(doc, r.range, 'open this page\'s memory (guest virtual)', () => host.post({ type: 'openMemory', reference: r.reference! })) : r.range;
  return html(doc, 'tr', { class: cls, 'data-key': r.key },
    html(doc, 'td', {}, toggle),
    html(doc, 'td', { class: 'mono' }, r.level === 2 ? `L2[${r.index}]` : `L1[${r.index}]`),
    html(doc, 'td', { class: 'mono' }, va, r.xen ? html(doc, 'span', { class: 'badge xen', title: "the hypervisor hole: Xen's entry" }, 'Xen') : null),
    html(doc, 'td', { class: 'mono' }, r.raw),
    html(doc, 'td', { class: 'mono' }, r.flags),
    html(doc, 'td', {}, r.access, r.grantFrom !== undefined ? html(doc, 'span', { class: 'badge grant' }, `grant from dom${r.grantFrom}`) : null),
    ...frameCells(doc, r.frame, host),
  );
}

export function renderPageTables(root: HTMLElement, m: PageTablesModel, host: PanelHost): void {
  const doc = root.ownerDocument;
  const body = html(doc, 'tbody');
  for (const r of m.rows) {
    body.append(rowElement(doc, r, host));
    for (const e of r.entries ?? []) body.append(rowElement(doc, e, host));
    if (r.truncated) body.append(html(doc, 'tr', { class: 'level-1' }, html(doc, 'td'), html(doc, 'td', { colspan: HEAD.length - 1, class: 'muted' }, 'more entries left out')));
  }
  replace(root,
    html(doc, 'header', {},
      html(doc, 'h1', {}, `Page tables of ${m.title}`),
      html(doc, 'p', {}, 'CR3 ', html(doc, 'span', { class: 'mono' }, m.cr3), ' → page directory ', action(doc, m.directory.mfn, m.directory.title, () => host.post({ type: 'openMemory', reference: m.directory.reference })),
        ` (${m.directory.typeText}${m.directory.pinned ? ', pinned' : ''})`,
        m.changes ? html(doc, 'span', { class: 'badge changed' }, `${m.changes} changed since the previous stop`) : null)),
    // Narrow panels scroll the table sideways rather than breaking addresses over lines.
    html(doc, 'div', { class: 'scroll' }, html(doc, 'table', { class: 'grid' }, html(doc, 'thead', {}, html(doc, 'tr', {}, ...HEAD.map((t) => html(doc, 'th', {}, t)))), body)),
  );
}
