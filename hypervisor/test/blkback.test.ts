// The block backend and the shared ring: the xenbus handshake through xenstore, requests
// through granted pages, every malformed or forged request refused with BLKIF_RSP_ERROR
// and nothing changed, notification avoidance, index wrap-around, a frontend overrunning
// the ring cut off. The frontend here is test code writing the domain's memory exactly as
// a guest driver would.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { field, k } from '../src/xen/abi.js';
import { BlkBack, SECTOR, vdevNumber } from '../src/xen/backends/blkback.js';
import { setupTable } from '../src/xen/grant-table.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { ringEntries } from '../../isa/src/index.js';
import { Xen } from '../src/xen/xen.js';
import { kernel } from './guest.js';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const OK = k('BLKIF_RSP_OKAY'), ERROR = k('BLKIF_RSP_ERROR'), UNSUPPORTED = k('BLKIF_RSP_EOPNOTSUPP');
const READ = k('BLKIF_OP_READ'), WRITE = k('BLKIF_OP_WRITE');

/** A domain with a disk of `sectors` sectors attached, and a frontend for it. */
function setup(opts: { sectors?: number; writable?: boolean; start?: number } = {}) {
  const r = assemble({ path: 'g.xasm', text: kernel('    jmp $'), provider: withBuiltins({ read: () => null }) });
  const xen = new Xen(4096);
  const built = xen.createDomain(guestImage(r.image), { name: 'fe', memoryKiB: 4096 });
  if ('error' in built) throw new Error(built.error);
  const d = built.domain;
  const disk = { bytes: new Uint8Array((opts.sectors ?? 64) * SECTOR), writable: opts.writable ?? true, saves: 0, written() { this.saves++; } };
  for (let i = 0; i < disk.bytes.length; i++) disk.bytes[i] = (i * 7) & 0xff;
  const back = new BlkBack(xen, d, 'xvda', disk);
  const mem = xen.mem;
  // The frontend's pages: the last frames of its memory (nothing else uses them).
  const page = (i: number) => d.p2m[d.p2m.length - 1 - i];
  const table = setupTable(xen, d, 0x7ff0, 1) as number[];
  const grant = (ref: number, frame: number, flags = k('GTF_permit_access'), domid = 0) => {
    mem.write32(table[0] * 4096 + ref * 8 + 4, frame);
    mem.write16(table[0] * 4096 + ref * 8 + 2, domid);
    mem.write16(table[0] * 4096 + ref * 8, flags);
  };
  const ring = page(0) * 4096;
  // SHARED_RING_INIT (with indices that may start anywhere: they are free-running)
  const start = opts.start ?? 0;
  mem.write32(ring + 0, start);
  mem.write32(ring + 8, start);
  mem.write32(ring + 4, start + 1);
  mem.write32(ring + 12, start + 1);
  grant(8, page(0));
  const port = d.events.allocate();
  d.events.bind(port, { kind: 'unbound', remoteDom: 0 });
  const s = xen.xenstored.store;
  const fe = back.frontendPath;
  const connect = () => {
    s.write(d.domain, 0, `${fe}/ring-ref`, enc('8'));
    s.write(d.domain, 0, `${fe}/event-channel`, enc(String(port)));
    s.write(d.domain, 0, `${fe}/state`, enc(String(k('XenbusStateInitialised'))));
    xen.xenstored.deliver();
  };
  let reqProd = start, rspCons = start;
  /** Queues a request (op, id, sector, segments [gref, first, last]); push() publishes and notifies. */
  const request = (op: number, id: number, sector: number, segs: [number, number, number][], nseg = segs.length) => {
    const at = ring + 64 + (reqProd & 31) * 108;
    mem.load(at, new Uint8Array(108));
    mem.write8(at, op);
    mem.write8(at + 1, nseg);
    mem.write32(at + 4, id);
    mem.write32(at + 12, sector);
    segs.forEach(([gref, first, last], i) => {
      mem.write32(at + 20 + 8 * i, gref);
      mem.write8(at + 24 + 8 * i, first);
      mem.write8(at + 25 + 8 * i, last);
    });
    reqProd = (reqProd + 1) >>> 0;
  };
  const push = () => {
    mem.write32(ring, reqProd);
    xen.notifyDom0(d, port);
  };
  /** The responses since the last call: [id, op, status]. */
  const responses = () => {
    const out: number[][] = [];
    for (const prod = mem.read32(ring + 8); rspCons !== prod; rspCons = (rspCons + 1) >>> 0) {
      const at = ring + 64 + (rspCons & 31) * 108;
      out.push([mem.read32(at), mem.read8(at + 8), (mem.read16(at + 10) << 16) >> 16]);
    }
    return out;
  };
  const backendState = () => Number(String.fromCharCode(...(s.read(0, 0, `${back.backendPath}/state`) as Uint8Array)));
  return { xen, d, disk, back, mem, page, grant, connect, request, push, responses, backendState, port, ring };
}

describe('shared rings', () => {
  it('hold a power of two of entries: 32 blkif slots, 256 netif slots', () => {
    expect(ringEntries(108)).toBe(32);
    expect(ringEntries(12)).toBe(256);
    expect(ringEntries(8)).toBe(256);
    expect(ringEntries(5000)).toBe(0);
  });
});

describe('the block backend', () => {
  it('announces the disk in xenstore and connects when the frontend publishes its ring and port', () => {
    const t = setup();
    const s = t.xen.xenstored.store;
    const read = (p: string) => String.fromCharCode(...(s.read(t.d.domain, 0, p) as Uint8Array));
    expect(vdevNumber('xvda')).toBe(51712);
    expect(t.back.frontendPath).toBe(`/local/domain/${t.d.domain}/device/vbd/51712`);
    expect([read(`${t.back.frontendPath}/backend`), read(`${t.back.backendPath}/sectors`), read(`${t.back.backendPath}/mode`)]).toEqual([t.back.backendPath, '64', 'w']);
    expect(t.backendState()).toBe(k('XenbusStateInitWait'));
    t.connect();
    expect(t.backendState()).toBe(k('XenbusStateConnected'));
    expect(checkInvariants(t.xen.mm, [t.d.active.baseMfn], t.xen.hostMappings)).toEqual([]);
    // The frontend closes: the ring and the channel are let go, so it can connect again with them.
    s.write(t.d.domain, 0, `${t.back.frontendPath}/state`, Uint8Array.from(String(k('XenbusStateClosed')), (c) => c.charCodeAt(0)));
    t.xen.xenstored.deliver();
    expect(t.backendState()).toBe(k('XenbusStateClosed'));
    expect([t.xen.hostMappings, t.d.events.port(t.port)]).toEqual([[], { kind: 'unbound', remoteDom: 0 }]);
    t.connect();
    expect(t.backendState()).toBe(k('XenbusStateConnected'));
  });

  it('writes and reads sectors through granted pages, several segments and partial pages, and saves the image', () => {
    const t = setup({ start: 0xfffffff0 }); // the indices wrap around during the test
    t.connect();
    const a = t.page(1), b = t.page(2), c = t.page(3);
    t.grant(9, a);
    t.grant(10, b);
    t.grant(11, c);
    for (let i = 0; i < 4096; i++) {
      t.mem.write8(a * 4096 + i, i & 0xff);
      t.mem.write8(b * 4096 + i, 255 - (i & 0xff));
    }
    // sectors 10..17 from page a (all of it), 18..19 from sectors 2..3 of page b
    t.request(WRITE, 1, 10, [[9, 0, 7], [10, 2, 3]]);
    t.request(READ, 2, 10, [[11, 0, 7]]);
    for (let i = 0; i < 20; i++) t.request(READ, 100 + i, 0, [[11, 0, 0]]);
    t.push();
    expect(t.responses().slice(0, 2)).toEqual([[1, WRITE, OK], [2, READ, OK]]);
    expect(t.disk.bytes.subarray(10 * SECTOR, 18 * SECTOR)).toEqual(t.mem.bytes.subarray(a * 4096, a * 4096 + 4096));
    expect(t.disk.bytes.subarray(18 * SECTOR, 20 * SECTOR)).toEqual(t.mem.bytes.subarray(b * 4096 + 1024, b * 4096 + 2048));
    expect(t.disk.saves).toBeGreaterThan(0);
    expect(t.back.counters).toMatchObject({ requests: 22, errors: 0, bytesWritten: 5120, bytesRead: 4096 + 20 * SECTOR });
    // The domain's own accounting: every request taken and answered, every byte moved.
    expect(t.d.counters.io).toMatchObject({ ringRequests: 22, ringResponses: 22, bytesMoved: 5120 + 4096 + 20 * SECTOR });
    expect(checkInvariants(t.xen.mm, [t.d.active.baseMfn], t.xen.hostMappings)).toEqual([]);
  });

  it('refuses every malformed or forged request with BLKIF_RSP_ERROR and changes nothing', () => {
    const t = setup({ sectors: 16 });
    t.connect();
    const a = t.page(1);
    t.grant(9, a);
    t.grant(10, a, k('GTF_permit_access') | k('GTF_readonly'));
    t.grant(11, a, k('GTF_permit_access'), 5); // granted to another domain
    t.grant(12, t.d.active.baseMfn); // the page directory: a page table
    const before = t.disk.bytes.slice();
    const pageBefore = t.mem.bytes.slice(a * 4096, a * 4096 + 4096);
    t.request(READ, 1, 0, [[9, 0, 8]]); // last sector past the page
    t.request(READ, 2, 0, [[9, 3, 2]]); // first after last
    t.request(READ, 3, 15, [[9, 0, 1]]); // past the end of the disk
    t.request(READ, 4, 0, [], 0); // no segments
    t.request(READ, 5, 0, Array.from({ length: 11 }, () => [9, 0, 0] as [number, number, number]), 12); // 12 segments
    t.request(READ, 6, 0, [[10, 0, 0]]); // reading into a read-only grant
    t.request(WRITE, 7, 0, [[11, 0, 0]]); // a grant to someone else
    t.request(WRITE, 8, 0, [[99, 0, 0]]); // no such grant
    t.request(READ, 9, 0, [[12, 0, 0]]); // into a page table
    t.request(k('BLKIF_OP_DISCARD'), 10, 0, []);
    t.request(READ, 11, 0, [[9, 0, 0], [99, 0, 0]]); // one good segment, one bad: nothing happens
    t.push();
    expect(t.responses()).toEqual([
      [1, READ, ERROR], [2, READ, ERROR], [3, READ, ERROR], [4, READ, ERROR], [5, READ, ERROR], [6, READ, ERROR],
      [7, WRITE, ERROR], [8, WRITE, ERROR], [9, READ, ERROR], [10, k('BLKIF_OP_DISCARD'), UNSUPPORTED], [11, READ, ERROR],
    ]);
    expect(t.disk.bytes).toEqual(before);
    expect(t.mem.bytes.slice(a * 4096, a * 4096 + 4096)).toEqual(pageBefore);
    expect(checkInvariants(t.xen.mm, [t.d.active.baseMfn], t.xen.hostMappings)).toEqual([]);
  });

  it('a read-only disk refuses writes', () => {
    const t = setup({ writable: false });
    t.connect();
    t.grant(9, t.page(1));
    t.request(WRITE, 1, 0, [[9, 0, 0]]);
    t.push();
    expect(t.responses()).toEqual([[1, WRITE, ERROR]]);
  });

  it('notifies only when the frontend asked (rsp_event), and asks for a notification before going idle', () => {
    const t = setup();
    t.connect();
    t.grant(9, t.page(1));
    const raised = () => t.d.events.isPending(t.port);
    t.request(READ, 1, 0, [[9, 0, 0]]);
    t.push();
    expect(raised()).toBe(true);
    t.responses();
    t.xen.mem.write8(t.d.sharedInfoMfn * 4096 + field('shared_info', 'evtchn_pending') + Math.floor(t.port / 8), 0); // acknowledge (clear pending)
    t.xen.mem.write32(t.ring + 12, 1000); // "tell me at the 1000th response"
    t.request(READ, 2, 0, [[9, 0, 0]]);
    t.push();
    expect(t.responses()).toEqual([[2, READ, OK]]);
    expect(raised()).toBe(false);
    expect(t.d.counters.io).toMatchObject({ ringRequests: 2, ringResponses: 2, notificationsSent: 1, notificationsAvoided: 1 });
    expect(t.xen.mem.read32(t.ring + 4)).toBe(3); // req_event: the next request after the two it took
  });

  it('a frontend that publishes more than a ring of requests is disconnected, and the ring page let go', () => {
    const t = setup();
    t.connect();
    t.xen.mem.write32(t.ring, 500);
    t.xen.notifyDom0(t.d, t.port);
    expect(t.backendState()).toBe(k('XenbusStateClosing'));
    expect(t.xen.hostMappings).toEqual([]);
    expect(checkInvariants(t.xen.mm, [t.d.active.baseMfn], t.xen.hostMappings)).toEqual([]);
  });
});
