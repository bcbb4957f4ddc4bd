// Renders the Memory panel: an address bar (space, domain, address, length), then the hex
// dump page by page, each page headed by the frame behind it and its type.

import type { MemoryModel, MemoryPage } from '../src/views/models/memory.js';
import { SPACE_NAMES, type AddressSpaceKind } from '../src/views/models/memoryReference.js';
import type { PanelHost } from '../src/views/models/panels.js';
import { action, html, replace } from './dom.js';

const COUNTS = [64, 256, 1024, 4096];

function addressBar(doc: Document, m: MemoryModel, host: PanelHost): HTMLFormElement {
  const space = html(doc, 'select', { name: 'space', 'aria-label': 'address space' },
    ...(Object.keys(SPACE_NAMES) as AddressSpaceKind[]).map((k) => html(doc, 'option', { value: k, selected: k === m.location.space }, SPACE_NAMES[k])));
  const domain = html(doc, 'input', { name: 'domain', type: 'number', min: 0, value: m.location.domain, 'aria-label': 'domain', class: 'narrow' });
  const address = html(doc, 'input', { name: 'address', value: m.rows[0]?.address ?? '0x0', 'aria-label': 'address', class: 'mono' });
  const count = html(doc, 'select', { name: 'count', 'aria-label': 'bytes' }, ...COUNTS.map((n) => html(doc, 'option', { value: n, selected: n === m.count }, `${n} bytes`)));
  const form = html(doc, 'form', { class: 'toolbar' },
    space, html(doc, 'label', {}, 'dom ', domain), address, count, html(doc, 'button', { type: 'submit' }, 'Go'),
    action(doc, 'Open in VS Code\'s memory view', 'the same bytes in the debugger\'s own hex view (readMemory)', () => host.post({ type: 'openNativeMemoryView', reference: m.reference }), 'secondary'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const at = Number(address.value.trim());
    if (!Number.isFinite(at)) return;
    host.post({ type: 'goTo', space: space.value as AddressSpaceKind, domain: Number(domain.value) || 0, address: at >>> 0, count: Number(count.value) });
  });
  return form;
}

function pageHeader(doc: Document, p: MemoryPage): HTMLTableRowElement {
  return html(doc, 'tr', { class: 'page' },
    html(doc, 'td', { colspan: 3, title: p.title },
      html(doc, 'span', { class: 'mono' }, `page ${p.address}`), ` · ${p.machine} · ${p.owner} · `,
      html(doc, 'span', { class: `badge${p.protected ? ' protected' : ''}` }, p.type)));
}

export function renderMemory(root: HTMLElement, m: MemoryModel, host: PanelHost): void {
  const doc = root.ownerDocument;
  const body = html(doc, 'tbody');
  let page = -1;
  for (const r of m.rows) {
    if (r.page !== page && m.pages[r.page]) body.append(pageHeader(doc, m.pages[(page = r.page)]));
    const cells = html(doc, 'td', { class: 'mono bytes' });
    r.cells.forEach((c, i) => {
      if (i === 8) cells.append(' ');
      cells.append(html(doc, 'span', { class: c.changed ? 'byte changed' : c.text === '??' ? 'byte unreadable' : 'byte' }, c.text), ' ');
    });
    body.append(html(doc, 'tr', {}, html(doc, 'td', { class: 'mono address' }, r.address), cells, html(doc, 'td', { class: 'mono ascii' }, r.ascii)));
  }
  replace(root,
    html(doc, 'header', {}, html(doc, 'h1', {}, `Memory: ${m.title}`),
      m.changes ? html(doc, 'span', { class: 'badge changed' }, `${m.changes} bytes changed since the previous stop`) : null),
    addressBar(doc, m, host),
    html(doc, 'table', { class: 'hex' }, body),
  );
}
