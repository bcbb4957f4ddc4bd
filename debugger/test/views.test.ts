// The side panels' data, checked on real seed guests booted as `xenolab run` boots them:
// what each view says must agree with the frame table, the page tables, the other side
// of a channel and the guest's own ring, bad ids must come back as errors, and looking
// must change nothing (the machine runs on exactly as it would have).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { hypercallByName, hypercallByNumber } from '../../isa/src/index.js';
import { DOMID_XEN, HYPERVISOR_L2_SLOT, MACH2PHYS_VIRT_START } from '../../hypervisor/src/xen/abi.js';
import { BlkBack } from '../../hypervisor/src/xen/backends/blkback.js';
import { Bridge, NetBack } from '../../hypervisor/src/xen/backends/netback.js';
import type { Domain } from '../../hypervisor/src/xen/domain.js';
import { parseDomainConfig } from '../../hypervisor/src/xen/xlcfg.js';
import { Xen } from '../../hypervisor/src/xen/xen.js';
import type { BlkifRequestInfo, BlkifResponseInfo, NetifTxResponseInfo, SharedRingInfo } from '../../protocol/src/index.js';
import {
  domainList, eventChannels, evtchnText, frameMap, grantTables, gnttabText, HypercallLog, isByteRing, isXenViewError, pageTables,
  ptWalk, ringText, rings, xlList, type Backend, type XenMachine,
} from '../src/views.js';

const seeds = join(import.meta.dirname, '..', '..', 'seeds');
const VIRT_BASE = 0xc0000000;

/** A view's body, failing the test on an error value. */
function ok<T>(v: T | { error: string }): T {
  if (isXenViewError(v)) throw new Error(`view error: ${v.error}`);
  return v as T;
}

function assembleSeed(path: string) {
  const r = assemble({ path, text: readFileSync(path, 'utf8'), provider: withBuiltins({ read: () => null }) });
  if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
  return r.image;
}

/** Boots seed kernels (.xasm) or xl.cfg files (with their disks and vifs) as `xenolab run` does. */
function boot(...files: string[]): XenMachine & { backends: Backend[]; doms: Domain[]; images: ReturnType<typeof assembleSeed>[] } {
  const xen = new Xen(8192);
  const backends: Backend[] = [];
  const bridges = new Map<string, Bridge>();
  const doms: Domain[] = [];
  const images = [];
  for (const file of files) {
    let kernel = file, name = file.replace(/^.*\/|\.[^.]*$/g, ''), memoryKiB = 16384, cmdline = '', vcpus = 1;
    let disks: { vdev: string; target: string; writable: boolean }[] = [], vifs: { mac: number[] | null; bridge: string }[] = [];
    if (file.endsWith('.cfg')) {
      const c = parseDomainConfig(readFileSync(file, 'utf8'));
      if (!c.ok) throw new Error(JSON.stringify(c.diagnostics));
      ({ name, extra: cmdline, disks, vifs, vcpus } = c.config);
      kernel = resolve(dirname(file), c.config.kernel);
      memoryKiB = c.config.memoryMiB * 1024;
      disks = disks.map((s) => ({ ...s, target: resolve(dirname(file), s.target) }));
    }
    const image = assembleSeed(kernel);
    images.push(image);
    const built = xen.createDomain(guestImage(image), { name, memoryKiB, cmdline, vcpus });
    if ('error' in built) throw new Error(built.error);
    const d = built.domain;
    // A copy of the disk: the seed writes to it, the file stays as it is.
    for (const s of disks) backends.push(new BlkBack(xen, d, s.vdev, { bytes: new Uint8Array(readFileSync(s.target)), writable: s.writable }));
    vifs.forEach((v, handle) => {
      let br = bridges.get(v.bridge);
      if (!br) bridges.set(v.bridge, (br = new Bridge(v.bridge)));
      backends.push(new NetBack(xen, d, handle, v.mac ?? [0x00, 0x16, 0x3e, 0x00, d.domain, handle], br));
    });
    doms.push(d);
  }
  return { xen, backends, doms, images };
}

const runToEnd = (m: XenMachine) => expect(m.xen.runAll(200_000_000).kind).toBe('ended');

/** The address of the instruction on the line after the first line of `file` containing `text`. */
function lineAfter(image: ReturnType<typeof assembleSeed>, file: string, text: string): number {
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 2;
  const row = image.lines.find((r) => r.line === line);
  if (!row) throw new Error(`no code on line ${line}`);
  return row.address;
}

const blkfrontCfg = join(seeds, 'blkfront', 'blkfront.cfg');
const blkfrontSrc = join(seeds, 'blkfront', 'blkfront.xasm');
/** Where blkfront has published a request (req_prod) and not yet notified the backend. */
const published = (m: ReturnType<typeof boot>) => lineAfter(m.images[0], blkfrontSrc, 'mov [ring + sring.req_prod], ebx');

describe('xen/domains', () => {
  it('hello: running after boot, then shut down (poweroff) with counters that add up', () => {
    const m = boot(join(seeds, 'hello.xasm'));
    const [d] = m.doms;
    const before = domainList(m.xen).domains;
    expect(before.map((x) => [x.id, x.name, x.state])).toEqual([[1, 'hello', 'running']]);
    expect(before[0].vcpus).toMatchObject([{ id: 0, up: true, blocked: false, eip: d.cpu.eip, cr3: d.vcpus[0].baseMfn * 4096 }]);
    runToEnd(m);
    const [info] = domainList(m.xen).domains;
    expect(info.state).toBe('shutdown');
    expect(info.shutdownReason).toBe('poweroff');
    expect(info.counters.hypercalls).toBe(d.counters.hypercalls.reduce((a, b) => a + b, 0));
    expect(Object.values(info.counters.byHypercall).reduce((a, b) => a + b, 0)).toBe(info.counters.hypercalls);
    expect(info.counters.byHypercall.console_io).toBe(d.counters.hypercalls[hypercallByName('console_io')!.number]);
    expect(info.counters.batchingRatio).toBeCloseTo(d.counters.ptUpdates / d.counters.transitions);
    expect(info.vcpus[0].instructions).toBe(d.cpu.instructions);
    expect(info.cycles).toBe(d.counters.cycles);
    // Plain JSON: it survives the trip to the client unchanged.
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
  });

  it('pagetables: batching shows in ptUpdates per transition', () => {
    const m = boot(join(seeds, 'pagetables.xasm'));
    runToEnd(m);
    const c = domainList(m.xen).domains[0].counters;
    expect(c.byHypercall.mmu_update).toBe(1026);
    expect(c.ptUpdates).toBe(2050);
    expect(c.batchingRatio).toBe(2050 / c.transitions);
  });

  it('asks only for the domains a panel shows; xl list has a row per domain', () => {
    const m = boot(join(seeds, 'pingpong', 'ping.cfg'), join(seeds, 'pingpong', 'pong.cfg'));
    expect(domainList(m.xen, { domains: [2, 7] }).domains.map((x) => x.name)).toEqual(['pong']);
    const text = xlList(m.xen).split('\n');
    expect(text[0]).toMatch(/^Name\s+ID\s+Mem\s+VCPUs\s+State\s+Time\(s\)$/);
    expect(text[1]).toMatch(/^ping\s+1\s+8\s+1\s+r-----\s+0\.000$/);
    expect(text[2]).toMatch(/^pong\s+2\s+8\s+1\s+r-----/);
  });
});

describe('xen/pageTables', () => {
  for (const seed of ['hello', 'pagetables']) {
    it(`${seed}: the pinned directory and tables, with the frame table's counts, map only the domain's frames`, () => {
      const m = boot(join(seeds, `${seed}.xasm`));
      const [d] = m.doms;
      const f = m.xen.frames;
      if (seed === 'pagetables') runToEnd(m); // it builds and pins a table of its own
      const pt = ok(pageTables(m.xen, 1));
      const base = d.vcpus[0].baseMfn;
      expect(pt.cr3).toBe(base * 4096);
      expect(pt.directory).toMatchObject({ mfn: base, type: 'l2', pinned: true, typeCount: f.typeRefs[base], owner: 1 });
      const guest = pt.entries.filter((e) => !e.xen);
      expect(guest.length).toBeGreaterThan(0);
      for (const pde of guest) {
        const l1 = pde.raw >>> 12;
        expect(pde.va).toBe(pde.index * 0x400000);
        expect(pde.frame).toMatchObject({ mfn: l1, type: 'l1', owner: 1, typeCount: f.typeRefs[l1], pinned: f.isPinned(l1), refCount: f.refs[l1] });
        expect(pde.entries!.length).toBeGreaterThan(0);
        for (const pte of pde.entries!) {
          expect(pte.va).toBe(((pde.index << 22) | (pte.index << 12)) >>> 0);
          expect(pte.flags).toContain('present');
          if (pte.grantFrom === undefined) expect(pte.frame!.owner).toBe(1);
          // The M2P agrees with the P2M the builder made.
          if (pte.frame!.pfn >= 0) expect(d.p2m[pte.frame!.pfn]).toBe(pte.frame!.mfn);
        }
      }
      // Every page table in the directory is one the frame table counts as an L1 of this domain.
      const tables = new Set(guest.map((e) => e.frame!.mfn));
      expect(tables.size).toBe(guest.length);
      if (seed === 'pagetables') expect(guest.some((e) => e.frame!.pinned)).toBe(true);
      // The hole: Xen's entry, Xen's frames, listed only when asked.
      const hole = pt.entries.filter((e) => e.xen);
      expect(hole.map((e) => e.index)).toContain(MACH2PHYS_VIRT_START >>> 22);
      expect(hole.every((e) => e.index >= HYPERVISOR_L2_SLOT && e.entries === undefined)).toBe(true);
      const withXen = ok(pageTables(m.xen, 1, { includeXen: true }));
      const m2p = withXen.entries.find((e) => e.index === MACH2PHYS_VIRT_START >>> 22)!;
      expect(m2p.frame!.owner).toBe(DOMID_XEN);
      expect(m2p.entries!.length).toBeGreaterThan(0);
      expect(m2p.entries!.every((e) => e.frame!.owner === DOMID_XEN && !e.flags.includes('rw'))).toBe(true);
    });
  }

  it('expands only the slots asked for, and caps the entries of a table', () => {
    const m = boot(join(seeds, 'hello.xasm'));
    const slot = VIRT_BASE >>> 22;
    const one = ok(pageTables(m.xen, 1, { slots: [slot], maxEntries: 4 }));
    const expanded = one.entries.filter((e) => e.entries);
    expect(expanded.map((e) => e.index)).toEqual([slot]);
    expect(expanded[0].entries!.length).toBe(4);
    expect(expanded[0].truncated).toBe(true);
    expect(expanded[0].entries![0].va).toBe(VIRT_BASE); // the kernel's first page
  });

  it('ptWalk: a mapped address to its machine address, an unmapped one stops as not present', () => {
    const m = boot(join(seeds, 'hello.xasm'));
    const [d] = m.doms;
    const walk = ok(ptWalk(m.xen, 1, VIRT_BASE + 0x123));
    expect(walk).toContain(`PDE[${VIRT_BASE >>> 22}]`);
    expect(walk).toContain('PTE[0]');
    expect(walk).toContain(`machine address 0x${(d.p2m[0] * 4096 + 0x123).toString(16).padStart(8, '0')}`);
    const below = ok(ptWalk(m.xen, 1, 0x00400000));
    expect(below).toContain('PDE[1]');
    expect(below).toMatch(/not present: the walk stops here/);
    expect(below).not.toContain('machine address');
    // Unmapped inside a present table (the last page of the boot area, which hello never
    // uses, unmapped as update_va_mapping would): the walk stops at the PTE.
    const last = VIRT_BASE + 0x3ff000;
    expect(m.xen.mm.updateVaMapping(last, 0, 0, d.vcpus[0])).toBe(0);
    const gap = ok(ptWalk(m.xen, 1, last + 8));
    expect(gap).toContain('PTE[1023]');
    expect(gap).toMatch(/PTE\[1023\] at machine 0x[0-9a-f]{8} = 0x00000000 -\n  not present/);
    const table = ok(pageTables(m.xen, 1)).entries.find((e) => e.index === VIRT_BASE >>> 22)!;
    expect(table.entries!.length).toBe(1023);
    expect(table.entries!.at(-1)!.index).toBe(1022);
    expect(ok(ptWalk(m.xen, 1, MACH2PHYS_VIRT_START))).toContain('hypervisor hole');
  });
});

describe('xen/frameMap', () => {
  it("per-owner counts: each domain's frames are its pages plus what Xen allocated for it", () => {
    // pingpong's domains must be 1 and 2 (pong binds to domain 1); blkfront is 3.
    const m = boot(join(seeds, 'pingpong', 'ping.cfg'), join(seeds, 'pingpong', 'pong.cfg'), blkfrontCfg);
    runToEnd(m);
    const map = frameMap(m.xen);
    expect(map.total).toBe(8192);
    expect(map.owner.length).toBe(8192);
    expect(map.owners.reduce((a, o) => a + o.frames, 0)).toBe(8192);
    for (const d of m.doms) {
      const o = map.owners.find((x) => x.owner === d.domain)!;
      expect(o.frames - o.xenHeap).toBe(d.pages);
      expect(map.owner.filter((x) => x === d.domain).length).toBe(o.frames);
    }
    // blkfront set up a grant table of one frame: shared_info and that frame are Xen's allocations.
    expect(map.owners.filter((x) => x.owner >= 1 && x.owner <= 3).map((x) => x.xenHeap)).toEqual([1, 1, 2]);
    expect(map.owners[0]).toMatchObject({ owner: DOMID_XEN, name: 'Xen', frames: map.owner.filter((x) => x === DOMID_XEN).length });
    expect(map.owners.at(-1)!.name).toBe('free');
    const base = m.doms[0].vcpus[0].baseMfn;
    expect(map.typeLegend[map.type[base]]).toBe('l2');
    expect(map.pinned[base]).toBe(1);
    // A window: the same facts, only fewer frames.
    const win = frameMap(m.xen, { start: base - 2, count: 5 });
    expect(win).toMatchObject({ start: base - 2, owner: map.owner.slice(base - 2, base + 3), type: map.type.slice(base - 2, base + 3) });
    expect(win.owners).toEqual(map.owners);
  });
});

describe('xen/eventChannels', () => {
  it('pingpong: the interdomain channel, seen from both sides', () => {
    const m = boot(join(seeds, 'pingpong', 'ping.cfg'), join(seeds, 'pingpong', 'pong.cfg'));
    runToEnd(m);
    const ping = ok(eventChannels(m, 1)), pong = ok(eventChannels(m, 2));
    const a = ping.ports.filter((p) => p.kind === 'interdomain' && p.remoteDomain === 2);
    const b = pong.ports.filter((p) => p.kind === 'interdomain' && p.remoteDomain === 1);
    expect(a.length).toBe(1);
    expect(b.length).toBe(1);
    expect(a[0].remotePort).toBe(b[0].port);
    expect(b[0].remotePort).toBe(a[0].port);
    // dom0's ends: the store and the console, named.
    const ends = ping.ports.filter((p) => p.remoteDomain === 0).map((p) => [p.port, p.dom0End]);
    expect(ends).toEqual([[m.xen.xenstored.portOf(m.doms[0]), 'xenstore'], [m.doms[0].consoleBackend!.port, 'console']]);
    expect(ping.vcpus).toEqual([{ vcpu: 0, upcallPending: m.doms[0].events.upcallPending(0), upcallMask: m.doms[0].events.upcallMasked(0), pendingSel: expect.any(Number) }]);
    const text = ok(evtchnText(m, 1));
    expect(text).toContain(`dom2 port ${b[0].port}`);
    expect(text).toMatch(/vCPU 0: upcall pending/);
  });

  it("blkfront: the ring's channel is named after the device dom0 serves on it", () => {
    const m = boot(blkfrontCfg);
    runToEnd(m);
    const ports = ok(eventChannels(m, 1)).ports;
    expect(ports.filter((p) => p.dom0End === 'blkif vbd 51712').length).toBe(1);
  });
});

describe('xen/grantTables', () => {
  it("blkfront: its ring and data grants to dom0, the ring pinned for writing by dom0's mapping", () => {
    const m = boot(blkfrontCfg);
    runToEnd(m);
    const [d] = m.doms;
    const g = ok(grantTables(m.xen, 1));
    expect(g.frames).toEqual(d.grants.frames);
    expect(g.capacity).toBe(512);
    const ring = g.entries.find((e) => e.ref === 8)!, data = g.entries.find((e) => e.ref === 9)!;
    expect(ring).toMatchObject({ domid: 0, writers: 1, readers: 0, mappedBy: [0] });
    expect(ring.flagNames).toEqual(['GTF_permit_access', 'GTF_writing']);
    expect(data).toMatchObject({ domid: 0, writers: 0, mappedBy: [], flagNames: ['GTF_permit_access'] });
    for (const e of [ring, data]) expect(m.xen.frames.owner[e.frame]).toBe(1);
    expect(g.entries.map((e) => e.ref)).toEqual([8, 9]);
    expect(g.mappings).toEqual([]);
    expect(ok(gnttabText(m.xen, 1))).toMatch(/^ +8 +0 +0x[0-9a-f]{8} +0\/1 +dom0 +GTF_permit_access GTF_writing$/m);
  });
});

describe('xen/rings', () => {
  it('blkfront: a published request is pending, decoded; answered ones stay readable as responses', () => {
    const m = boot(blkfrontCfg);
    const [d] = m.doms;
    d.cpu.addBreakpoint(published(m));
    const name = 'dom1 blkif vbd 51712';
    const ring = () => ok(rings(m, { domain: 1, name })).rings[0] as SharedRingInfo;

    expect(m.xen.run(d, 200_000_000).kind).toBe('breakpoint');
    let r = ring();
    expect(r).toMatchObject({ kind: 'blkif', size: 32, reqProd: 1, reqCons: 0, rspProd: 0, rspProdPvt: 0, responses: [] });
    expect(r.mfn).toBe(m.xen.hostMappings.find((x) => x.granter === d && x.ref === 8)!.frame);
    expect(r.requests.map((e) => [e.index, e.state])).toEqual([[0, 'pending']]);
    expect(r.requests[0].value as BlkifRequestInfo).toEqual({
      operation: 0, operationName: 'BLKIF_OP_READ', nrSegments: 1, handle: 0, id: '0', sector: 0, segments: [{ gref: 9, firstSect: 0, lastSect: 0 }],
    });

    expect(m.xen.run(d, 200_000_000).kind).toBe('breakpoint');
    r = ring();
    expect(r.requests.map((e) => [e.index, e.state, (e.value as BlkifRequestInfo).operationName, (e.value as BlkifRequestInfo).sector])).toEqual([[1, 'pending', 'BLKIF_OP_WRITE', 8]]);
    expect(r.responses.map((e) => [e.index, e.value])).toEqual([[0, { id: '0', operation: 0, operationName: 'BLKIF_OP_READ', status: 0, statusName: 'BLKIF_RSP_OKAY' }]]);

    d.cpu.removeBreakpoint(published(m));
    runToEnd(m);
    r = ring();
    expect(r).toMatchObject({ reqProd: 3, reqCons: 3, rspProd: 3, rspProdPvt: 3, requests: [] });
    expect(r.responses.map((e) => [(e.value as BlkifResponseInfo).operationName, (e.value as BlkifResponseInfo).statusName])).toEqual([
      ['BLKIF_OP_READ', 'BLKIF_RSP_OKAY'], ['BLKIF_OP_WRITE', 'BLKIF_RSP_OKAY'], ['BLKIF_OP_READ', 'BLKIF_RSP_OKAY'],
    ]);
    const text = ok(ringText(m, name));
    expect(text).toContain('requests: none in the ring');
    expect(text).toContain('#1 slot 1 answered: BLKIF_OP_WRITE id 1: BLKIF_RSP_OKAY');
  });

  it('every domain has its console and xenstore rings; the console has nothing unread after a run, host input shows until read', () => {
    const m = boot(blkfrontCfg);
    runToEnd(m);
    const all = ok(rings(m));
    expect(all.rings.map((r) => r.name)).toEqual(['dom1 blkif vbd 51712', 'dom1 console', 'dom1 xenstore']);
    expect(all.devices).toMatchObject([{ name: 'dom1 vbd 51712', kind: 'vbd', connected: true, frontendPath: '/local/domain/1/device/vbd/51712' }]);
    const con = all.rings[1];
    if (!isByteRing(con)) throw new Error('not a byte ring');
    expect(con.mfn).toBe(m.doms[0].ringFrames[1]);
    const out = con.streams.find((s) => s.name === 'out')!;
    expect(out.cons).toBe(out.prod);
    expect(out.unread).toBe('');
    const store = all.rings[2];
    if (!isByteRing(store)) throw new Error('not a byte ring');
    expect(store.port).toBe(m.xen.xenstored.portOf(m.doms[0]));
    // Host input not yet read by the guest shows as unread in the console's `in` ring.
    m.xen.input(m.doms[0], 'hi');
    const afterInput = ok(rings(m, { name: 'dom1 console' })).rings[0];
    expect(isByteRing(afterInput) && afterInput.streams[0]).toMatchObject({ name: 'in', unread: 'hi' });
  });

  it('netfront: transmit and receive rings of both interfaces, decoded', () => {
    const m = boot(join(seeds, 'netfront', 'ping.cfg'), join(seeds, 'netfront', 'pong.cfg'));
    runToEnd(m);
    const all = ok(rings(m));
    const shared = all.rings.filter((r): r is SharedRingInfo => !isByteRing(r));
    expect(shared.map((r) => r.name)).toEqual(['dom1 netif_tx vif 0', 'dom1 netif_rx vif 0', 'dom2 netif_tx vif 0', 'dom2 netif_rx vif 0']);
    for (const r of shared) {
      expect(r.size).toBe(256);
      expect(r.rspProd).toBe(r.rspProdPvt);
    }
    const tx = shared[0].responses.map((e) => (e.value as NetifTxResponseInfo).statusName);
    expect(tx.length).toBeGreaterThan(0);
    expect(new Set(tx)).toEqual(new Set(['NETIF_RSP_OKAY']));
    // Received frames: a length as the status.
    expect(shared[1].responses.some((e) => /^\d+ bytes$/.test((e.value as { statusName: string }).statusName))).toBe(true);
    expect(ok(rings(m, { domain: 2 })).rings.every((r) => r.domain === 2)).toBe(true);
  });
});

describe('bad ids are errors, never exceptions', () => {
  it('domains, vCPUs, addresses and ring names that do not exist', () => {
    const m = boot(join(seeds, 'hello.xasm'));
    for (const id of [0, 2, -1, 1.5, NaN, '1' as unknown as number, undefined as unknown as number]) {
      expect(isXenViewError(pageTables(m.xen, id))).toBe(true);
      expect(isXenViewError(eventChannels(m, id))).toBe(true);
      expect(isXenViewError(grantTables(m.xen, id))).toBe(true);
      expect(isXenViewError(ptWalk(m.xen, id, VIRT_BASE))).toBe(true);
      expect(isXenViewError(evtchnText(m, id))).toBe(true);
      expect(isXenViewError(gnttabText(m.xen, id))).toBe(true);
      if (id !== undefined) expect(isXenViewError(rings(m, { domain: id }))).toBe(true);
    }
    expect(pageTables(m.xen, 1, { vcpu: 1 })).toEqual({ error: 'dom1 has no vCPU 1 (it has 1)' });
    expect(isXenViewError(ptWalk(m.xen, 1, VIRT_BASE, 3))).toBe(true);
    expect(isXenViewError(ptWalk(m.xen, 1, 1.5))).toBe(true);
    expect(ok(ptWalk(m.xen, 1, -1))).toContain('virtual 0xffffffff');
    expect(isXenViewError(ptWalk(m.xen, 1, 2 ** 32))).toBe(true);
    const none = ringText(m, 'dom1 blkif vbd 1');
    expect(none).toEqual({ error: "no ring named 'dom1 blkif vbd 1'; rings: dom1 console, dom1 xenstore" });
    expect(isXenViewError(ringText(m, 'dom9 console'))).toBe(true);
    expect(isXenViewError(rings(m, { name: 'nothing' }))).toBe(true);
  });

  it('a vCPU not brought up yet has no page directory to show', () => {
    const m = boot(join(seeds, 'smp', 'smp.cfg'));
    expect(m.doms[0].vcpus.length).toBe(4);
    expect(pageTables(m.xen, 1, { vcpu: 2 })).toEqual({ error: 'dom1 vCPU 2 has no page directory yet' });
  });
});

describe('looking changes nothing', () => {
  /** Every view, every text, at the current state. */
  function lookAtEverything(m: XenMachine): void {
    const addresses = [0, VIRT_BASE, VIRT_BASE + 0x1000, MACH2PHYS_VIRT_START, 0xffffffff];
    domainList(m.xen);
    xlList(m.xen);
    frameMap(m.xen);
    rings(m);
    for (const d of m.xen.domains.values()) {
      for (const v of d.vcpus) pageTables(m.xen, d.domain, { vcpu: v.id, includeXen: true });
      for (const va of addresses) ptWalk(m.xen, d.domain, va);
      eventChannels(m, d.domain);
      evtchnText(m, d.domain);
      grantTables(m.xen, d.domain);
      gnttabText(m.xen, d.domain);
      for (const r of ok(rings(m, { domain: d.domain })).rings) ringText(m, r.name);
    }
  }

  /** The CPUs (registers, TLBs, memory) and the frame table. */
  function fingerprint(m: XenMachine): unknown {
    const f = m.xen.frames;
    return {
      cpus: [...m.xen.domains.values()].flatMap((d) => d.vcpus.map((v) => v.cpu.stateHash())),
      frames: [f.owner, f.refs, f.type, f.typeRefs].map((a) => Array.from(a).join()),
      grants: m.xen.hostMappings.length,
    };
  }

  it('at breakpoints in the middle of blkfront I/O: the same state, and the run goes on exactly as without looking', () => {
    const runs = [false, true].map((look) => {
      const m = boot(blkfrontCfg);
      const [d] = m.doms;
      d.cpu.addBreakpoint(published(m));
      let stops = 0;
      for (;;) {
        const r = m.xen.run(d, 200_000_000);
        if (r.kind !== 'breakpoint') break;
        stops++;
        if (look) {
          const before = fingerprint(m);
          lookAtEverything(m);
          expect(fingerprint(m)).toEqual(before);
        }
      }
      return { stops, console: d.consoleText, hash: d.cpu.stateHash(), now: m.xen.now };
    });
    expect(runs[0].stops).toBe(3);
    expect(runs[0].console).toBe(readFileSync(join(seeds, 'blkfront', 'blkfront.console'), 'utf8'));
    expect(runs[1]).toEqual(runs[0]);
  });

  it('pingpong, mid-run: two domains and their channel', () => {
    const m = boot(join(seeds, 'pingpong', 'ping.cfg'), join(seeds, 'pingpong', 'pong.cfg'));
    m.xen.runAll(300_000);
    const before = fingerprint(m);
    lookAtEverything(m);
    expect(fingerprint(m)).toEqual(before);
  });
});

describe('HypercallLog', () => {
  it("records every hypercall of a run in order, with the hypercall's own arguments", () => {
    const m = boot(join(seeds, 'hello.xasm'));
    const log = new HypercallLog();
    m.xen.onHypercall = log.tracer(m.xen);
    runToEnd(m);
    const total = m.doms[0].counters.hypercalls.reduce((a, b) => a + b, 0);
    const all = log.since(0);
    expect(all.entries.length).toBe(total);
    expect(all.dropped).toBe(0);
    expect(all.nextSeq).toBe(total + 1);
    expect(all.entries.map((e) => e.seq)).toEqual([...Array(total).keys()].map((i) => i + 1));
    for (const e of all.entries) {
      const h = hypercallByNumber(e.nr)!;
      expect(e.name).toBe(h.name);
      expect(e.args.length).toBe(h.args.length);
      expect(e.args.every((a) => /^0x[0-9a-f]+$/.test(a))).toBe(true);
      expect(e.domain).toBe(1);
    }
    expect(all.entries.map((e) => e.time)).toEqual([...all.entries.map((e) => e.time)].sort((a, b) => a - b));
    expect(all.entries.at(-1)!.name).toBe('sched_op'); // the shutdown
    expect(log.since(all.nextSeq)).toEqual({ entries: [], nextSeq: all.nextSeq, dropped: 0 });
  });

  it('is bounded: the oldest go, and a reader learns how many it missed', () => {
    const m = boot(join(seeds, 'pingpong', 'ping.cfg'), join(seeds, 'pingpong', 'pong.cfg'));
    const log = new HypercallLog(8);
    m.xen.onHypercall = log.tracer(m.xen);
    runToEnd(m);
    const total = m.doms.reduce((n, d) => n + d.counters.hypercalls.reduce((a, b) => a + b, 0), 0);
    const all = log.since(0);
    expect(all.entries.map((e) => e.seq)).toEqual([...Array(8).keys()].map((i) => total - 7 + i));
    expect(all.dropped).toBe(total - 8);
    const page = log.since(total - 7, { max: 3 });
    expect(page.entries.map((e) => e.seq)).toEqual([total - 7, total - 6, total - 5]);
    expect(page.nextSeq).toBe(total - 4);
    expect(page.dropped).toBe(0);
    expect(log.since(0, { domain: 2 }).entries.every((e) => e.domain === 2)).toBe(true);
  });

  it('names errnos, and only for results that are errnos', () => {
    const log = new HypercallLog(4);
    log.record(5, 1, 0, 1, [0x1000, 1, 0, 0x7ff0, 9], -22);
    log.record(6, 1, 0, 2, [], 0xc0000000 | 0);
    log.record(7, 1, 1, 99, [1, 2, 3, 4, 5], 0);
    const [a, b, c] = log.since(0).entries;
    expect(a).toEqual({ seq: 1, time: 5, domain: 1, vcpu: 0, nr: 1, name: 'mmu_update', args: ['0x1000', '0x1', '0x0', '0x7ff0'], result: -22, errno: 'EINVAL' });
    expect(b.errno).toBeUndefined();
    expect(b.result).toBe(0xc0000000 | 0);
    expect(c).toMatchObject({ name: 'hypercall 99', args: ['0x1', '0x2', '0x3', '0x4', '0x5'], vcpu: 1 });
  });
});
