// Renders the Hypercall Profile panel: the batching ratios side by side, then per domain
// its hypercalls by name, transitions against page-table updates, and a timeline.

import type { PanelHost } from '../src/views/models/panels.js';
import { BAR_CHART, type BarChart, type DomainProfile, type ProfileModel } from '../src/views/models/profile.js';
import { html, replace, svg } from './dom.js';

function chart(doc: Document, c: BarChart): HTMLElement {
  const { labelWidth, barWidth, rowHeight } = BAR_CHART;
  const picture = svg(doc, 'svg', { class: 'chart', width: c.width, height: c.height, viewBox: `0 0 ${c.width} ${c.height}`, role: 'img', 'aria-label': c.title },
    ...c.bars.map((b, i) => svg(doc, 'g', { class: b.changed ? 'bar changed' : 'bar', title: `${b.label}: ${b.valueText}` },
      svg(doc, 'text', { x: labelWidth - 6, y: i * rowHeight + rowHeight / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, b.label),
      svg(doc, 'rect', { x: b.x, y: b.y, width: barWidth, height: b.height, class: 'track' }),
      svg(doc, 'rect', { x: b.x, y: b.y, width: b.width, height: b.height, class: 'fill' }),
      svg(doc, 'text', { x: labelWidth + barWidth + 6, y: i * rowHeight + rowHeight / 2, 'dominant-baseline': 'middle', class: 'value' }, b.valueText))));
  return html(doc, 'figure', {}, html(doc, 'figcaption', {}, c.title), c.bars.length ? picture : html(doc, 'p', { class: 'muted' }, 'none yet'));
}

function domain(doc: Document, d: DomainProfile): HTMLElement {
  const t = d.timeline;
  const timeline = svg(doc, 'svg', { class: 'timeline', width: t.width, height: t.height + 1, viewBox: `0 0 ${t.width} ${t.height + 1}`, role: 'img', 'aria-label': t.caption },
    svg(doc, 'line', { x1: 0, y1: t.height + 0.5, x2: t.width, y2: t.height + 0.5, class: 'axis' }),
    ...t.columns.filter((c) => c.count > 0).map((c) => svg(doc, 'rect', { x: c.x, y: c.y, width: c.width, height: c.height, class: 'fill', title: c.title })));
  return html(doc, 'article', { class: 'card', 'data-domain': d.domain },
    html(doc, 'h2', {}, d.name), html(doc, 'p', { class: 'muted' }, d.summary),
    html(doc, 'div', { class: 'charts' }, chart(doc, d.byHypercall), chart(doc, d.batching)),
    html(doc, 'figure', {}, html(doc, 'figcaption', {}, t.caption), timeline));
}

export function renderProfile(root: HTMLElement, m: ProfileModel, _host: PanelHost): void {
  const doc = root.ownerDocument;
  replace(root,
    html(doc, 'header', {}, html(doc, 'h1', {}, 'Hypercall profile'),
      html(doc, 'p', { class: 'muted' }, 'Each hypercall is a guest → hypervisor transition, which costs time of its own: batching many page-table updates into one call is the lesson of the Xen paper. Changes since the previous stop are highlighted.')),
    chart(doc, m.ratios),
    ...m.domains.map((d) => domain(doc, d)),
  );
}
