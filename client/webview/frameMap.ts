// Renders the Frame Map panel: every machine frame a cell, filled with its owner's colour,
// a band at the bottom for its type, a line on top when pinned, an outline when it changed
// since the previous stop. Clicking a frame opens its memory.

import { frameAt, type FrameMapModel } from '../src/views/models/frameMap.js';
import { frameReference } from '../src/views/models/memoryReference.js';
import type { PanelHost } from '../src/views/models/panels.js';
import { html, replace, svg } from './dom.js';

/** Pixels per frame cell. */
export const CELL = 8;

function legend(doc: Document, title: string, entries: FrameMapModel['owners'], swatch: 'owner' | 'type'): HTMLElement {
  return html(doc, 'section', { class: 'legend' }, html(doc, 'h2', {}, title),
    html(doc, 'ul', {}, ...entries.map((e) => html(doc, 'li', {},
      svg(doc, 'svg', { width: 14, height: 14, 'aria-hidden': 'true' }, svg(doc, 'rect', { x: 1, y: 1, width: 12, height: 12, class: `${swatch === 'owner' ? 'cell' : 'band'} ${e.cssClass}` })),
      html(doc, 'span', {}, e.label), html(doc, 'span', { class: 'muted' }, ` ${e.detail}`)))));
}

export function renderFrameMap(root: HTMLElement, m: FrameMapModel, host: PanelHost): void {
  const doc = root.ownerDocument;
  const width = m.columns * CELL, height = m.rows * CELL;
  const map = svg(doc, 'svg', { class: 'frame-map', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': m.summary });
  for (const r of m.runs) {
    const x = r.col * CELL, y = r.row * CELL, w = r.length * CELL - 1;
    const g = svg(doc, 'g', { 'data-mfn': r.mfn, title: r.title },
      svg(doc, 'rect', { x, y, width: w, height: CELL - 1, class: `cell ${r.ownerClass}` }),
      r.typeClass !== 'type-none' ? svg(doc, 'rect', { x, y: y + CELL - 4, width: w, height: 3, class: `band ${r.typeClass}` }) : null,
      r.pinned ? svg(doc, 'rect', { x, y, width: w, height: 1, class: 'pin' }) : null,
      r.changed ? svg(doc, 'rect', { x: x + 0.5, y: y + 0.5, width: w - 1, height: CELL - 2, class: 'changed-outline' }) : null);
    map.append(g);
  }
  map.addEventListener('click', (e) => {
    const box = map.getBoundingClientRect();
    const mfn = frameAt(m, Math.floor((e.clientY - box.top) / CELL), Math.floor((e.clientX - box.left) / CELL));
    if (mfn !== null) host.post({ type: 'openMemory', reference: frameReference(mfn) });
  });
  replace(root,
    html(doc, 'header', {}, html(doc, 'h1', {}, 'Frame map'), html(doc, 'p', {}, m.summary, '. Fill: owner; bottom band: type; top line: pinned. Click a frame for its memory.'),
      m.changes ? html(doc, 'span', { class: 'badge changed' }, `${m.changes} frames changed since the previous stop`) : null),
    html(doc, 'div', { class: 'legends' }, legend(doc, 'Owners', m.owners, 'owner'), legend(doc, 'Types', m.types, 'type')),
    html(doc, 'div', { class: 'scroll' }, map),
  );
}
