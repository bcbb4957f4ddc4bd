// The webview panels' models (Page Tables, Memory, Frame Map, I/O Rings, Hypercall
// Profile) on recorded adapter responses: exact drawing data, and what changed since the
// previous stop.

import { describe, expect, it } from 'vitest';
import { frameAt, frameMapModel } from '../../src/views/models/frameMap.js';
import { decodeBase64, memoryModel, type MemoryRead } from '../../src/views/models/memory.js';
import { frameReference, memoryReference, parseMemoryReference } from '../../src/views/models/memoryReference.js';
import { pageTablesModel } from '../../src/views/models/pageTables.js';
import { BAR_CHART, profileModel, TIMELINE } from '../../src/views/models/profile.js';
import { entryText, ringsModel, RING_GEOMETRY, slotPath } from '../../src/views/models/rings.js';
import { fixture, type RecordedMemory } from '../fixtures.js';

describe('Page Tables', () => {
  const [before, after] = fixture('pagetables');

  it('the page directory: the kernel slot, the slot the seed built, and Xen\'s hole', () => {
    const m = pageTablesModel(before.pageTables);
    expect([m.title, m.cr3, m.directory.title]).toEqual(['dom1 vCPU 0', '0x0001b000', 'mfn 0x1b (pfn 0x12, dom1) page directory (L2) ×2, 5 refs, pinned']);
    expect(m.rows.map((r) => [r.key, r.range, r.flags, r.access, r.frame?.typeText, r.frame?.pinned, r.xen ?? false, r.open])).toEqual([
      ['L2[768]', '0xc0000000–0xc03fffff', 'P RW US A D', 'rw user', 'L1 page table', false, false, false],
      ['L2[769]', '0xc0400000–0xc07fffff', 'P RW A', 'rw', 'L1 page table', true, false, false],
      ['L2[1008]', '0xfc000000–0xfc3fffff', 'P A', 'ro', 'untyped', false, true, false],
    ]);
    expect(m.rows[1].frame?.reference).toBe('m:0x0000d000');
  });

  it('opened slots: L1 entries with their frames, rights of both levels, and the batch\'s remapping marked changed', () => {
    const m = pageTablesModel(after.expanded, before.expanded);
    const slot = m.rows.find((r) => r.key === 'L2[769]')!;
    expect(slot.truncated).toBe(true);
    expect(slot.entries!.slice(0, 2).map((e) => [e.key, e.raw, e.flags, e.access, e.frame?.mfn, e.frame?.typeText, e.reference, e.changed])).toEqual([
      ['L2[769]/L1[0]', '0x0000a021', 'P A', 'ro', '0xa', 'writable', 'd1:0xc0400000', true],
      ['L2[769]/L1[1]', '0x0000b021', 'P A', 'ro', '0xb', 'writable', 'd1:0xc0401000', true],
    ]);
    // The batch moved every entry of the new table one frame on: all 8 listed entries, nothing else.
    expect(m.changes).toBe(8);
    expect(m.rows.filter((r) => r.changed)).toEqual([]);
    expect(m.rows[0].entries!.every((e) => !e.changed)).toBe(true);
    // The kernel's slot: ring 3 may not use what the PTE does not allow, whatever the PDE says.
    expect(m.rows[0].entries![0]).toMatchObject({ flags: 'P RW A D', access: 'rw' });
  });

  it('no previous stop, or another domain\'s: nothing marked', () => {
    expect(pageTablesModel(after.expanded).changes).toBe(0);
    expect(pageTablesModel(after.expanded, { ...before.expanded, domain: 2 }).changes).toBe(0);
  });
});

describe('Memory', () => {
  const [before, after] = fixture('pagetables');
  const read = (r: RecordedMemory): MemoryRead => ({ location: parseMemoryReference(r.reference)!, bytes: decodeBase64(r.read.data), count: 256, pages: r.translate });

  it('a hex dump of the request array, the bytes the batch wrote marked, the page\'s frame and type', () => {
    const m = memoryModel(read(after.memory), read(before.memory));
    expect([m.title, m.reference, m.rows.length]).toEqual(['dom1 guest virtual 0xc0005000', 'd1:0xc0005000', 16]);
    expect(m.rows[0].address).toBe('0xc0005000');
    expect(m.rows[0].cells.map((c) => c.text).join(' ')).toBe('00 d0 00 00 00 00 00 00 21 a0 00 00 00 00 00 00');
    expect(m.rows[0].cells.filter((c) => c.changed).map((c) => c.text)).toEqual(['d0', '21', 'a0']);
    expect(m.rows[0].ascii).toBe('........!.......');
    expect(m.pages).toEqual([{ address: '0xc0005000', machine: 'machine 0x0000e000', type: 'writable', owner: 'dom1', title: 'mfn 0xe (pfn 0x5, dom1) writable ×1, 3 refs', protected: false }]);
    // The array was all zeros before the batch: every non-zero byte now is a change.
    expect(m.changes).toBe(decodeBase64(after.memory.read.data).filter((b) => b !== 0).length);
    expect(m.changes).toBeGreaterThan(0);
  });

  it('bytes past the readable ones show as ??; another range is not compared', () => {
    const r = read(after.memory);
    const m = memoryModel({ ...r, bytes: r.bytes.subarray(0, 20), count: 32 }, { ...read(before.memory), location: { ...r.location, address: 0 } });
    expect(m.rows[1].cells.map((c) => c.text).join(' ')).toBe('04 d0 00 00 ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ??');
    expect(m.changes).toBe(0);
  });

  it('memory references in the three spaces, as the adapter reads them', () => {
    expect(memoryReference({ space: 'virtual', domain: 1, address: 0xc0005000 })).toBe('d1:0xc0005000');
    expect(memoryReference({ space: 'physical', domain: 2, address: 0x5000 })).toBe('p2:0x00005000');
    expect(frameReference(0x1c)).toBe('m:0x0001c000');
    expect(parseMemoryReference('p2:0x00005000')).toEqual({ space: 'physical', domain: 2, address: 0x5000 });
    expect(parseMemoryReference('m:0x1000')).toEqual({ space: 'machine', domain: 0, address: 0x1000 });
    expect(parseMemoryReference('eax')).toBeNull();
  });
});

describe('Frame Map', () => {
  const [before, after] = fixture('pagetables');

  it('runs of equal frames, coloured by owner, banded by type, pinned marked', () => {
    const m = frameMapModel(before.frameMap);
    expect([m.columns, m.rows, m.runs.length, m.summary]).toEqual([128, 64, 72, '8,192 machine frames of 4 KiB']);
    expect(m.runs.slice(0, 5).map((r) => [r.mfn, r.row, r.col, r.length, r.ownerClass, r.typeClass, r.pinned])).toEqual([
      [0, 0, 0, 9, 'owner-xen', 'type-none', false],
      [9, 0, 9, 4, 'owner-0', 'type-writable', false],
      [13, 0, 13, 1, 'owner-0', 'type-l1', true],
      [14, 0, 14, 13, 'owner-0', 'type-writable', false],
      [27, 0, 27, 1, 'owner-0', 'type-l2', true],
    ]);
    expect(m.runs[4].title).toBe('mfn 0x1b: dom1 (pagetables), page directory (L2), pinned');
    expect(m.owners).toEqual([
      { cssClass: 'owner-xen', label: 'Xen', detail: '9 frames' },
      { cssClass: 'owner-0', label: 'dom1 (pagetables)', detail: "4,097 frames (1 from Xen's heap)" },
      { cssClass: 'owner-free', label: 'free', detail: '4,086 frames' },
    ]);
    expect(m.types.map((t) => [t.cssClass, t.detail])).toEqual([
      ['type-none', '7,168 frames'], ['type-l1', '2 frames'], ['type-l2', '1 frame'], ['type-seg_desc', '0 frames'], ['type-writable', '1,021 frames'],
    ]);
    // Every frame is in exactly one run, and no run crosses a row.
    expect(m.runs.reduce((n, r) => n + r.length, 0)).toBe(8192);
    expect(m.runs.every((r) => r.col + r.length <= m.columns)).toBe(true);
    expect([frameAt(m, 0, 10), frameAt(m, 1, 0), frameAt(m, 64, 0)]).toEqual([10, 128, null]);
  });

  it('frames that changed since the previous stop are runs of their own', () => {
    expect(frameMapModel(after.frameMap, before.frameMap).changes).toBe(0);
    // The page directory unpinned and retyped between two stops: one frame, marked.
    const owner = [...after.frameMap.owner], type = [...after.frameMap.type], pinned = [...after.frameMap.pinned];
    type[27] = after.frameMap.typeLegend.indexOf('writable');
    pinned[27] = 0;
    const m = frameMapModel({ ...after.frameMap, owner, type, pinned }, before.frameMap);
    expect(m.changes).toBe(1);
    expect(m.runs.filter((r) => r.changed).map((r) => [r.mfn, r.length, r.typeClass, r.title])).toEqual([[27, 1, 'type-writable', 'mfn 0x1b: dom1 (pagetables), writable (changed)']]);
  });
});

describe('I/O Rings', () => {
  const [published, answered] = fixture('blkfront');

  it('blkfront: a 32-slot circle, the published request pending in slot 0, the indices pointing at their slots', () => {
    const m = ringsModel(published.rings);
    expect(m.shared.map((r) => r.name)).toEqual(['dom1 blkif vbd 51712']);
    expect(m.bytes.map((r) => r.name)).toEqual(['dom1 console', 'dom1 xenstore']);
    expect(m.devices).toEqual([{ name: 'dom1 vbd 51712', connected: true, text: 'vbd 51712 · connected · /local/domain/1/device/vbd/51712 ↔ /local/domain/0/backend/vbd/1/51712' }]);
    const ring = m.shared[0];
    expect(ring.subtitle).toBe('mfn 0xe · port 3 · 32 slots of 108 bytes · 1 request in the ring');
    expect(ring.slots).toHaveLength(32);
    expect(ring.slots.filter((s) => s.state !== 'free').map((s) => [s.slot, s.state, s.index, s.title])).toEqual([
      [0, 'pending', 0, 'slot 0: request #0 (pending) BLKIF_OP_READ id 0 sector 0 · 1 segment: gref 9 sectors 0–0'],
    ]);
    expect(ring.slots[0].path).toBe(slotPath(0, 32));
    expect(ring.requests).toEqual([{ index: 0, slot: 0, state: 'pending', text: 'BLKIF_OP_READ id 0 sector 0 · 1 segment: gref 9 sectors 0–0', changed: false }]);
    expect(ring.pointers.map((p) => [p.name, p.value, p.side])).toEqual([
      ['req_prod', 1, 'request'], ['req_cons', 0, 'request'], ['req_event', 1, 'request'], ['rsp_prod', 0, 'response'], ['rsp_event', 1, 'response'],
    ]);
  });

  it('slot geometry: annular sectors clockwise from 12 o\'clock, pointers outside (requests) and inside (responses), stacked when they share a slot', () => {
    expect(RING_GEOMETRY).toEqual({ size: 300, outer: 112, inner: 74 });
    // A quarter ring: from just past 12 o'clock (outer radius) to just before 3, back along the inner radius.
    expect(slotPath(0, 4)).toBe('M152.24 38.02A112 112 0 0 1 261.98 147.76L223.99 148.52A74 74 0 0 0 151.48 76.01Z');
    const [reqProd, reqCons, reqEvent, rspProd] = ringsModel(published.rings).shared[0].pointers;
    // req_prod and req_event share slot 1: the second label is one step further out.
    expect([reqProd.labelX, reqProd.labelY, reqEvent.labelX, reqEvent.labelY]).toEqual([175.75, 20.54, 177.9, 9.75]);
    expect([reqCons.x1, reqCons.y1, reqCons.x2, reqCons.y2, reqCons.anchor]).toEqual([150, 36, 150, 26, 'middle']);
    expect([rspProd.x1, rspProd.y1, rspProd.x2, rspProd.y2]).toEqual([150, 78, 150, 86]);
  });

  it('the next stop: the request answered, its slot and the moved indices marked changed', () => {
    const ring = ringsModel(answered.rings, published.rings).shared[0];
    expect(ring.slots.filter((s) => s.changed).map((s) => [s.slot, s.state])).toEqual([[0, 'answered']]);
    expect(ring.requests).toEqual([]);
    expect(ring.responses).toEqual([{ index: 0, slot: 0, state: 'answered', text: 'BLKIF_OP_READ id 0 → BLKIF_RSP_OKAY', changed: true }]);
    expect(ring.pointers.filter((p) => p.changed).map((p) => p.name)).toEqual(['req_cons', 'req_event', 'rsp_prod']);
    expect(ring.indices.filter((i) => i.changed).map((i) => `${i.name} ${i.value}`)).toEqual(['req_event 2', 'rsp_prod 1', 'req_cons (backend) 1', 'rsp_prod_pvt (backend) 1']);
  });

  it('byte rings: unread bytes as a share of the ring, xenstore messages decoded', () => {
    const [console, store] = ringsModel(published.rings).bytes;
    expect(console.streams.map((s) => [s.name, s.size, s.fill, s.unread])).toEqual([['in', 1024, 0, ''], ['out', 2048, 0, '']]);
    expect(store.kind).toBe('xenstore');
    expect(store.streams.map((s) => s.name)).toEqual(['req', 'rsp']);
  });

  it('decodes every kind of entry on one line', () => {
    expect(entryText({ id: 3, gref: 7 })).toBe('id 3 gref 7');
    expect(entryText({ id: 3, gref: 7, offset: 0, flags: 0, flagNames: [], size: 60 })).toBe('id 3 gref 7 offset 0 size 60');
    expect(entryText({ id: 3, status: 0, statusName: 'NETIF_RSP_OKAY' })).toBe('id 3 → NETIF_RSP_OKAY');
    expect(entryText({ id: 3, offset: 0, flags: 4, flagNames: ['NETRXF_data_validated'], status: 60, statusName: '60 bytes' })).toBe('id 3 offset 0 → 60 bytes [NETRXF_data_validated]');
  });
});

describe('Hypercall Profile', () => {
  it('pagetables: 1,026 mmu_updates in 1,031 transitions; the batching ratio near 2 (one batch of 1,024)', () => {
    const [, after] = fixture('pagetables');
    const m = profileModel(after.domains, []);
    const d = m.domains[0];
    expect(d.summary).toBe('1,031 hypercalls · 1,031 transitions · 2,050 page-table updates · batching ratio 1.99');
    expect(d.byHypercall.bars.map((b) => [b.label, b.valueText, b.width])).toEqual([
      // Bars scale to the largest; a small count still shows (1 px at least).
      ['mmu_update', '1,026', BAR_CHART.barWidth], ['console_io', '2', 1], ['mmuext_op', '2', 1], ['update_va_mapping', '1', 1],
    ]);
    expect(d.batching.bars.map((b) => [b.label, b.value, b.width])).toEqual([['transitions', 1031, 130.8], ['page-table updates', 2050, 260]]);
    expect(m.ratios.bars.map((b) => [b.label, b.valueText])).toEqual([['dom1 (pagetables)', '1.99']]);
  });

  it('blkfront: growth since the previous stop, and a timeline of the hypercall log', () => {
    const [first, second] = fixture('blkfront');
    const m = profileModel(second.domains, second.hypercallLog.entries, first.domains);
    const d = m.domains[0];
    expect(d.summary).toBe('11 hypercalls (+1) · 11 transitions · 2 page-table updates · batching ratio 0.18');
    expect(d.byHypercall.bars.filter((b) => b.changed).map((b) => [b.label, b.valueText])).toEqual([['event_channel_op', '7 (+1)']]);
    const cols = d.timeline.columns;
    expect(cols).toHaveLength(TIMELINE.buckets);
    expect(cols.reduce((n, c) => n + c.count, 0)).toBe(second.hypercallLog.entries.length);
    expect(cols.every((c) => c.y + c.height === TIMELINE.height || c.count === 0)).toBe(true);
    expect(d.timeline.caption).toMatch(/^hypercalls over machine time, .* \(11 in the log; the tallest column is 1\)$/);
  });
});
