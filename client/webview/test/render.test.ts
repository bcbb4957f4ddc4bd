// The panel renderers in a DOM (happy-dom): each draws its model from recorded adapter
// responses into the elements a person sees, and its controls post the right messages to
// the host.

import { Window } from 'happy-dom';
import { describe, expect, it } from 'vitest';
import { frameMapModel } from '../../src/views/models/frameMap.js';
import { decodeBase64, memoryModel } from '../../src/views/models/memory.js';
import { parseMemoryReference } from '../../src/views/models/memoryReference.js';
import { pageTablesModel } from '../../src/views/models/pageTables.js';
import type { FromPanel, PanelHost, ToPanel } from '../../src/views/models/panels.js';
import { profileModel } from '../../src/views/models/profile.js';
import { ringsModel } from '../../src/views/models/rings.js';
import { fixture } from '../../test/fixtures.js';
import { renderMessage } from '../render.js';

/** A fresh document, a root to render into, and the messages the panel posted. */
function setup(message: ToPanel): { root: HTMLElement; posted: FromPanel[] } {
  const window = new Window();
  const root = window.document.createElement('main') as unknown as HTMLElement;
  window.document.body.appendChild(root as never);
  const posted: FromPanel[] = [];
  const host: PanelHost = { post: (m) => posted.push(m) };
  renderMessage(root, message, host);
  return { root, posted };
}

const texts = (root: HTMLElement, selector: string) => [...root.querySelectorAll(selector)].map((e) => e.textContent?.trim());
const click = (el: Element | null) => (el as HTMLElement).dispatchEvent(new (el!.ownerDocument.defaultView as unknown as typeof globalThis).MouseEvent('click', { bubbles: true }));

describe('panel renderers', () => {
  it('Page Tables: a row per slot and entry, changed rows marked, toggles and frame links post to the host', () => {
    const [before, after] = fixture('pagetables');
    const { root, posted } = setup({ type: 'model', panel: 'pageTables', model: pageTablesModel(after.expanded, before.expanded) });
    expect(root.querySelector('h1')?.textContent).toBe('Page tables of dom1 vCPU 0');
    expect(root.querySelectorAll('tr.level-2')).toHaveLength(3);
    expect(root.querySelectorAll('tr.level-1[data-key]')).toHaveLength(16);
    expect(root.querySelectorAll('tr.changed')).toHaveLength(8);
    expect(texts(root, '.badge.changed')).toEqual(['8 changed since the previous stop']);
    expect(texts(root, 'tr[data-key="L2[769]"] .badge')).toEqual(['L1 page table', 'pinned']);
    click(root.querySelector('tr[data-key="L2[769]"] button.toggle'));
    click(root.querySelector('tr[data-key="L2[769]/L1[0]"] td:nth-child(7) button'));
    click(root.querySelector('tr[data-key="L2[769]/L1[0]"] td:nth-child(3) button'));
    expect(posted).toEqual([{ type: 'toggleSlot', slot: 769 }, { type: 'openMemory', reference: 'm:0x0000a000' }, { type: 'openMemory', reference: 'd1:0xc0400000' }]);
  });

  it('Memory: the address bar, a page header with the frame type, changed bytes highlighted; Go and the native view post', () => {
    const [before, after] = fixture('pagetables');
    const read = (s: typeof before) => ({ location: parseMemoryReference(s.memory.reference)!, bytes: decodeBase64(s.memory.read.data), count: 256, pages: s.memory.translate });
    const { root, posted } = setup({ type: 'model', panel: 'memory', model: memoryModel(read(after), read(before)) });
    expect(root.querySelector('h1')?.textContent).toBe('Memory: dom1 guest virtual 0xc0005000');
    expect(texts(root, 'tr.page')).toEqual(['page 0xc0005000 · machine 0x0000e000 · dom1 · writable']);
    expect(root.querySelectorAll('td.bytes')).toHaveLength(16);
    expect(texts(root, 'tr:nth-child(2) .byte.changed')).toEqual(['d0', '21', 'a0']);
    const address = root.querySelector('input[name="address"]') as HTMLInputElement;
    address.value = '0xc0000000';
    (root.querySelector('select[name="space"]') as HTMLSelectElement).value = 'physical';
    root.querySelector('form')!.dispatchEvent(new (root.ownerDocument.defaultView as unknown as typeof globalThis).Event('submit', { cancelable: true }));
    click(root.querySelector('button.secondary'));
    expect(posted).toEqual([{ type: 'goTo', space: 'physical', domain: 1, address: 0xc0000000, count: 256 }, { type: 'openNativeMemoryView', reference: 'd1:0xc0005000' }]);
  });

  it('Frame Map: one SVG group per run, owner fills and type bands from the model, legends', () => {
    const [before] = fixture('pagetables');
    const model = frameMapModel(before.frameMap);
    const { root } = setup({ type: 'model', panel: 'frameMap', model });
    const svg = root.querySelector('svg.frame-map')!;
    expect([svg.getAttribute('width'), svg.getAttribute('height')]).toEqual(['1024', '512']);
    expect(svg.querySelectorAll('g[data-mfn]')).toHaveLength(model.runs.length);
    const pd = svg.querySelector('g[data-mfn="27"]')!;
    expect([...pd.querySelectorAll('rect')].map((r) => r.getAttribute('class'))).toEqual(['cell owner-0', 'band type-l2', 'pin']);
    expect(pd.querySelector('title')?.textContent).toBe('mfn 0x1b: dom1 (pagetables), page directory (L2), pinned');
    expect(texts(root, '.legend li span:first-of-type')).toEqual(['Xen', 'dom1 (pagetables)', 'free', 'untyped', 'L1 page table', 'page directory (L2)', 'descriptor table', 'writable']);
  });

  it('I/O Rings: each slot a path, the pointers labelled, the decoded entries in tables', () => {
    const [published, answered] = fixture('blkfront');
    const { root } = setup({ type: 'model', panel: 'rings', model: ringsModel(answered.rings, published.rings) });
    const ring = root.querySelector('article[data-ring="dom1 blkif vbd 51712"]')!;
    expect(ring.querySelectorAll('svg.ring path.slot')).toHaveLength(32);
    expect(ring.querySelectorAll('path.state-answered.changed')).toHaveLength(1);
    expect(texts(ring as HTMLElement, 'g.pointer text')).toEqual(['req_prod 1', 'req_cons 1', 'req_event 2', 'rsp_prod 1', 'rsp_event 1']);
    expect(texts(ring as HTMLElement, 'table.grid tr.changed td:last-child')).toEqual(['BLKIF_OP_READ id 0 → BLKIF_RSP_OKAY']);
    expect(texts(root, 'article.byte-ring h2')).toEqual(['dom1 console', 'dom1 xenstore']);
  });

  it('Hypercall Profile: bar charts and a timeline per domain', () => {
    const [first, second] = fixture('blkfront');
    const { root } = setup({ type: 'model', panel: 'profile', model: profileModel(second.domains, second.hypercallLog.entries, first.domains) });
    const card = root.querySelector('article[data-domain="1"]')!;
    expect(texts(card as HTMLElement, 'figcaption')).toEqual(['Hypercalls by name', 'Transitions and page-table updates', expect.stringMatching(/^hypercalls over machine time/)]);
    expect(texts(card as HTMLElement, 'g.bar.changed text.value')).toEqual(['7 (+1)', '11 (+1)']);
    expect(card.querySelectorAll('svg.timeline rect.fill').length).toBeGreaterThan(0);
  });

  it('an empty message says why there is nothing to show; text from the machine is never markup', () => {
    const { root } = setup({ type: 'empty', message: '<b>no</b> session' });
    expect(root.querySelector('p.empty')?.textContent).toBe('<b>no</b> session');
    expect(root.querySelector('b')).toBeNull();
  });
});
