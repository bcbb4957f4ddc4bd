// The network backend and bridge: two domains' interfaces connected through xenstore,
// frames forwarded by MAC address, broadcasts flooded, frames dropped when no receive
// buffer is posted, and every bad transmit or receive request refused. The frontends are
// test code writing the domains' memory as a guest driver would.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { k } from '../src/xen/abi.js';
import { Bridge, NetBack } from '../src/xen/backends/netback.js';
import { destroyDomain } from '../src/xen/control.js';
import type { Domain } from '../src/xen/domain.js';
import { setupTable } from '../src/xen/grant-table.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { Xen } from '../src/xen/xen.js';
import { kernel } from './guest.js';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ERROR = k('NETIF_RSP_ERROR');

/** A domain with a vif on `bridge`, and its frontend: rings on its last pages, buffers after them. */
function vif(xen: Xen, bridge: Bridge, mac: number[]) {
  const r = assemble({ path: 'g.xasm', text: kernel('    jmp $'), provider: withBuiltins({ read: () => null }) });
  const built = xen.createDomain(guestImage(r.image), { name: `vm${mac[5]}`, memoryKiB: 4096 });
  if ('error' in built) throw new Error(built.error);
  const d: Domain = built.domain;
  const back = new NetBack(xen, d, 0, mac, bridge);
  const mem = xen.mem;
  const page = (i: number) => d.p2m[d.p2m.length - 1 - i];
  const table = (setupTable(xen, d, 0x7ff0, 1) as number[])[0];
  const grant = (ref: number, frame: number, flags = k('GTF_permit_access')) => {
    mem.write32(table * 4096 + ref * 8 + 4, frame);
    mem.write16(table * 4096 + ref * 8 + 2, 0);
    mem.write16(table * 4096 + ref * 8, flags);
  };
  const txRing = page(0) * 4096, rxRing = page(1) * 4096;
  for (const ring of [txRing, rxRing]) {
    mem.write32(ring, 0);
    mem.write32(ring + 8, 0);
    mem.write32(ring + 4, 1);
    mem.write32(ring + 12, 1);
  }
  grant(8, page(0));
  grant(9, page(1));
  const port = d.events.allocate();
  d.events.bind(port, { kind: 'unbound', remoteDom: 0 });
  const s = xen.xenstored.store;
  s.write(d.domain, 0, `${back.frontendPath}/tx-ring-ref`, enc('8'));
  s.write(d.domain, 0, `${back.frontendPath}/rx-ring-ref`, enc('9'));
  s.write(d.domain, 0, `${back.frontendPath}/event-channel`, enc(String(port)));
  s.write(d.domain, 0, `${back.frontendPath}/state`, enc(String(k('XenbusStateConnected'))));
  xen.xenstored.deliver();
  let txProd = 0, txCons = 0, rxProd = 0, rxCons = 0;
  /** Sends a frame from page `i` (granted as ref 16 + i): dst, src, then the payload. */
  const send = (dst: number[], payload: string, opts: { size?: number; offset?: number; flags?: number; gref?: number } = {}) => {
    const buf = page(2);
    grant(16, buf, k('GTF_permit_access') | k('GTF_readonly'));
    const frame = new Uint8Array([...dst, ...mac, 0x88, 0xb5, ...enc(payload)]);
    mem.load(buf * 4096 + (opts.offset ?? 0), frame);
    const at = txRing + 64 + (txProd & 255) * 12;
    mem.write32(at, opts.gref ?? 16);
    mem.write16(at + 4, opts.offset ?? 0);
    mem.write16(at + 6, opts.flags ?? 0);
    mem.write16(at + 8, txProd);
    mem.write16(at + 10, opts.size ?? frame.length);
    txProd++;
    mem.write32(txRing, txProd);
    xen.notifyDom0(d, port);
  };
  const txResponses = () => {
    const out: number[] = [];
    for (; txCons !== mem.read32(txRing + 8); txCons++) out.push((mem.read16(txRing + 64 + (txCons & 255) * 12 + 2) << 16) >> 16);
    return out;
  };
  /** Posts `n` empty receive buffers (pages 3.., granted as refs 32..). */
  const post = (n: number, flags = k('GTF_permit_access')) => {
    for (let i = 0; i < n; i++, rxProd++) {
      const buf = page(3 + (rxProd % 8));
      grant(32 + (rxProd % 8), buf, flags);
      const at = rxRing + 64 + (rxProd & 255) * 8;
      mem.write16(at, rxProd);
      mem.write32(at + 4, 32 + (rxProd % 8));
    }
    mem.write32(rxRing, rxProd);
  };
  /** Frames received since the last call: their payloads (after the 14-byte header), or their error status. */
  const received = () => {
    const out: (string | number)[] = [];
    for (; rxCons !== mem.read32(rxRing + 8); rxCons++) {
      const at = rxRing + 64 + (rxCons & 255) * 8;
      const id = mem.read16(at), status = (mem.read16(at + 6) << 16) >> 16;
      const buf = page(3 + (id % 8)) * 4096;
      out.push(status < 0 ? status : String.fromCharCode(...mem.bytes.subarray(buf + 14, buf + status)));
    }
    return out;
  };
  return { d, back, send, txResponses, post, received };
}

const MAC_A = [0x00, 0x16, 0x3e, 0, 0, 1], MAC_B = [0x00, 0x16, 0x3e, 0, 0, 2], MAC_C = [0x00, 0x16, 0x3e, 0, 0, 3];
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

describe('the network backend and bridge', () => {
  it('connects through xenstore and forwards a frame to the interface with its destination address', () => {
    const xen = new Xen(8192);
    const br = new Bridge('xenbr0');
    const a = vif(xen, br, MAC_A), b = vif(xen, br, MAC_B), c = vif(xen, br, MAC_C);
    const state = (n: NetBack) => String.fromCharCode(...(xen.xenstored.store.read(0, 0, `${n.backendPath}/state`) as Uint8Array));
    expect([state(a.back), state(b.back)]).toEqual(['4', '4']);
    b.post(2);
    c.post(2);
    a.send(MAC_B, 'hello b');
    expect(a.txResponses()).toEqual([0]);
    expect(b.received()).toEqual(['hello b']);
    expect(c.received()).toEqual([]);
    b.send(BROADCAST, 'to everyone');
    a.post(1);
    b.send(BROADCAST, 'to everyone again');
    expect(c.received()).toEqual(['to everyone', 'to everyone again']);
    expect(a.received()).toEqual(['to everyone again']); // the first found no buffer: dropped
    expect(a.back.counters.rxDropped).toBe(1);
    expect(b.received()).toEqual([]); // never back to the sender
    // Each domain's accounting: a sent 1 and took 1 posted buffer; b sent 2 and took 1; c took 2.
    expect([a, b, c].map((x) => x.d.counters.io.ringRequests)).toEqual([2, 3, 2]);
    for (const x of [a, b, c]) expect(x.d.counters.io.bytesMoved).toBe(x.back.counters.bytesSent + x.back.counters.bytesReceived);
    expect(c.d.counters.io.bytesMoved).toBeGreaterThan(0);
    expect(checkInvariants(xen.mm, [a.d.active.baseMfn, b.d.active.baseMfn, c.d.active.baseMfn], xen.hostMappings)).toEqual([]);
  });

  it('refuses bad transmit requests and receive buffers it may not write', () => {
    const xen = new Xen(8192);
    const br = new Bridge('xenbr0');
    const a = vif(xen, br, MAC_A), b = vif(xen, br, MAC_B);
    b.post(8);
    a.send(MAC_B, 'x', { size: 10 }); // shorter than an Ethernet header
    a.send(MAC_B, 'x', { size: 1515 }); // longer than a frame
    a.send(MAC_B, 'x', { offset: 4090 }); // past the end of the page
    a.send(MAC_B, 'x', { flags: k('NETTXF_more_data') }); // fragments are not offered
    a.send(MAC_B, 'x', { gref: 99 }); // no such grant
    expect(a.txResponses()).toEqual([ERROR, ERROR, ERROR, ERROR, ERROR]);
    expect(b.received()).toEqual([]);
    // A buffer granted read-only cannot take a frame.
    const c = vif(xen, br, MAC_C);
    c.post(1, k('GTF_permit_access') | k('GTF_readonly'));
    a.send(MAC_C, 'x');
    expect(c.received()).toEqual([ERROR]);
    expect(a.back.counters.txErrors).toBe(5);
  });
});

describe('destroying a domain with devices', () => {
  it("its backends let go: the bridge no longer delivers to it, and its frames are all freed", () => {
    const xen = new Xen(8192);
    const br = new Bridge('xenbr0');
    const a = vif(xen, br, MAC_A), b = vif(xen, br, MAC_B), c = vif(xen, br, MAC_C);
    b.post(2);
    b.send(MAC_A, 'from b'); // the bridge learns where MAC_B is
    const free0 = Array.from(xen.frames.owner).filter((o) => o === -1).length;
    const owned = Array.from(xen.frames.owner).filter((o) => o === b.d.domain).length;
    expect(destroyDomain(xen, b.d)).toBe(0);
    expect(br.ports).toEqual([a.back, c.back]);
    c.post(2);
    a.send(BROADCAST, 'anyone?');
    a.send(MAC_B, 'b?');
    expect(a.txResponses()).toEqual([0, 0]);
    // What the bridge had learnt about b went with it: b's address is unknown again, so flooded.
    expect(c.received()).toEqual(['anyone?', 'b?']);
    expect(Array.from(xen.frames.owner).filter((o) => o === -1).length).toBe(free0 + owned);
    expect(Array.from(xen.frames.refs).some((r, mfn) => r !== 0 && xen.frames.owner[mfn] === -1)).toBe(false);
    expect(checkInvariants(xen.mm, [a.d.active.baseMfn, c.d.active.baseMfn], xen.hostMappings)).toEqual([]);
    expect(xen.xenstored.store.read(0, 0, `/local/domain/0/backend/vif/${b.d.domain}`)).toBe('ENOENT');
  });
});
