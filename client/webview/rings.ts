// Renders the I/O Rings panel: each request/response ring a circle of slots coloured by
// what they hold, with the producer, consumer and event indices pointing at their slots and
// the decoded entries beside it; each byte ring its streams' unread bytes.

import type { PanelHost } from '../src/views/models/panels.js';
import { RING_GEOMETRY, streamText, type ByteRingDrawing, type EntryRow, type RingsModel, type SharedRingDrawing } from '../src/views/models/rings.js';
import { html, replace, svg } from './dom.js';

const STATE_TEXT = { free: 'free', pending: 'request, not taken yet', taken: 'request taken by the backend', answered: 'response' } as const;

function circle(doc: Document, r: SharedRingDrawing): SVGElement {
  const { size } = RING_GEOMETRY;
  const c = size / 2;
  return svg(doc, 'svg', { class: 'ring', width: size, height: size, viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': `${r.name}: ${r.subtitle}` },
    ...r.slots.map((s) => svg(doc, 'path', { d: s.path, class: `slot state-${s.state}${s.changed ? ' changed' : ''}`, 'data-slot': s.slot, title: s.title })),
    ...r.pointers.map((p) => svg(doc, 'g', { class: `pointer ${p.side}${p.changed ? ' changed' : ''}`, 'data-pointer': p.name },
      svg(doc, 'line', { x1: p.x1, y1: p.y1, x2: p.x2, y2: p.y2 }),
      svg(doc, 'text', { x: p.labelX, y: p.labelY, 'text-anchor': p.anchor, 'dominant-baseline': 'middle' }, `${p.name} ${p.value}`))),
    svg(doc, 'text', { x: c, y: c - 6, 'text-anchor': 'middle', class: 'centre' }, r.kind),
    svg(doc, 'text', { x: c, y: c + 12, 'text-anchor': 'middle', class: 'centre muted' }, `${r.slots.length} slots`));
}

function entries(doc: Document, title: string, rows: EntryRow[]): HTMLElement {
  return html(doc, 'section', {}, html(doc, 'h3', {}, title),
    rows.length === 0 ? html(doc, 'p', { class: 'muted' }, 'none') : html(doc, 'table', { class: 'grid' },
      html(doc, 'thead', {}, html(doc, 'tr', {}, html(doc, 'th', {}, '#'), html(doc, 'th', {}, 'Slot'), html(doc, 'th', {}, 'State'), html(doc, 'th', {}, 'Decoded'))),
      html(doc, 'tbody', {}, ...rows.map((e) => html(doc, 'tr', { class: e.changed ? 'changed' : '' },
        html(doc, 'td', { class: 'mono' }, e.index), html(doc, 'td', { class: 'mono' }, e.slot),
        html(doc, 'td', {}, html(doc, 'span', { class: `badge state-${e.state}` }, e.state)), html(doc, 'td', { class: 'mono wrap' }, e.text))))));
}

function sharedRing(doc: Document, r: SharedRingDrawing): HTMLElement {
  return html(doc, 'article', { class: 'card', 'data-ring': r.name },
    html(doc, 'h2', {}, r.name), html(doc, 'p', { class: 'muted' }, r.subtitle),
    html(doc, 'div', { class: 'ring-row' },
      html(doc, 'div', {}, circle(doc, r),
        html(doc, 'ul', { class: 'key' }, ...(['pending', 'taken', 'answered', 'free'] as const).map((s) => html(doc, 'li', {},
          svg(doc, 'svg', { width: 12, height: 12, 'aria-hidden': 'true' }, svg(doc, 'rect', { width: 12, height: 12, class: `slot state-${s}` })), ` ${STATE_TEXT[s]}`)))),
      html(doc, 'div', { class: 'ring-detail' },
        html(doc, 'table', { class: 'indices' }, html(doc, 'tbody', {}, ...r.indices.map((i) => html(doc, 'tr', { class: i.changed ? 'changed' : '' }, html(doc, 'th', {}, i.name), html(doc, 'td', { class: 'mono' }, i.value))))),
        entries(doc, 'Requests in the ring', r.requests), entries(doc, 'Responses still readable', r.responses))));
}

function byteRing(doc: Document, r: ByteRingDrawing): HTMLElement {
  return html(doc, 'article', { class: 'card byte-ring', 'data-ring': r.name },
    html(doc, 'h2', {}, r.name), html(doc, 'p', { class: 'muted' }, r.subtitle),
    ...r.streams.map((s) => {
      // The unread bytes as a segment of a bar standing for the whole ring (wrapping at its end).
      const w = 300, end = s.start + s.fill;
      const bar = svg(doc, 'svg', { class: 'stream-bar', width: w, height: 10, viewBox: `0 0 ${w} 10`, 'aria-hidden': 'true' },
        svg(doc, 'rect', { width: w, height: 10, class: 'track' }),
        s.fill > 0 ? svg(doc, 'rect', { x: Math.round(s.start * w * 10) / 10, width: Math.round(Math.min(s.fill, 1 - s.start) * w * 10) / 10, height: 10, class: 'unread' }) : null,
        end > 1 ? svg(doc, 'rect', { x: 0, width: Math.round((end - 1) * w * 10) / 10, height: 10, class: 'unread' }) : null);
      return html(doc, 'section', { class: s.changed ? 'stream changed' : 'stream' },
        html(doc, 'p', {}, bar, ' ', streamText(s)),
        s.unread ? html(doc, 'pre', { class: 'unread-text' }, s.unread) : null,
        s.messages.length ? html(doc, 'ul', {}, ...s.messages.map((t) => html(doc, 'li', { class: 'mono' }, t))) : null);
    }));
}

export function renderRings(root: HTMLElement, m: RingsModel, _host: PanelHost): void {
  const doc = root.ownerDocument;
  replace(root,
    html(doc, 'header', {}, html(doc, 'h1', {}, 'I/O rings')),
    m.devices.length ? html(doc, 'ul', { class: 'devices' }, ...m.devices.map((d) => html(doc, 'li', { class: d.connected ? '' : 'muted' }, html(doc, 'strong', {}, d.name), ` ${d.text}`))) : null,
    m.shared.length ? null : html(doc, 'p', { class: 'muted' }, 'No request/response rings: no split device is connected.'),
    ...m.shared.map((r) => sharedRing(doc, r)),
    ...m.bytes.map((r) => byteRing(doc, r)),
  );
}
