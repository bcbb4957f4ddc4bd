// The network backend in dom0 (what Linux's netback does, in its copying mode) and the
// bridge it plugs virtual interfaces into. A frontend shares a transmit and a receive
// ring (netif.h) through grants and one event channel. Transmitted frames are copied out
// of the granted page the request names and handed to the bridge, which forwards by
// destination MAC address (learnt from the source of the frames each port sent, and
// known from each interface's configured address) or floods broadcasts and unknowns.
// A frame for an interface is copied into the next empty page its frontend posted on the
// receive ring; with none posted, it is dropped and counted.

import { k } from '../abi.js';
import type { Domain } from '../domain.js';
import { BACKEND_DOMAIN } from '../console.js';
import { grantedFrame, hostMapGrant, hostUnmapGrant, type GrantMapping } from '../grant-table.js';
import { BackRing } from '../ring.js';
import type { Xen } from '../xen.js';
import { XenbusBackend, XENBUS_STATE as STATE } from './xenbus.js';
const RSP_OKAY = k('NETIF_RSP_OKAY'), RSP_ERROR = k('NETIF_RSP_ERROR');
const NETTXF_more_data = k('NETTXF_more_data'), NETTXF_extra_info = k('NETTXF_extra_info');
/** Ethernet: a header of 14 bytes, at most 1500 bytes of payload. */
export const ETH_HEADER = 14;
export const ETH_MAX = 1514;

export interface NetCounters {
  txFrames: number;
  txErrors: number;
  rxFrames: number;
  /** Frames for this interface dropped because its frontend had posted no buffer. */
  rxDropped: number;
  bytesSent: number;
  bytesReceived: number;
}

const isMulticast = (mac: Uint8Array | number[]) => (mac[0] & 1) !== 0;
const macKey = (b: Uint8Array | number[]) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** A learning bridge (xenbr0) joining virtual interfaces. */
export class Bridge {
  readonly ports: NetBack[] = [];
  /** Which port each source MAC was last seen on. */
  private readonly learnt = new Map<string, NetBack>();

  constructor(readonly name: string) {}

  /** A port goes (its domain was destroyed): with it, what was learnt about it. */
  unplug(port: NetBack): void {
    this.ports.splice(this.ports.indexOf(port), 1);
    for (const [mac, p] of this.learnt) if (p === port) this.learnt.delete(mac);
  }

  /** A frame sent by `from`: to the port its destination is on, or to every other port. */
  forward(from: NetBack, frame: Uint8Array): void {
    this.learnt.set(macKey(frame.subarray(6, 12)), from);
    const dst = frame.subarray(0, 6);
    const known = isMulticast(dst) ? undefined : this.learnt.get(macKey(dst)) ?? this.ports.find((p) => macKey(p.mac) === macKey(dst));
    if (known) {
      if (known !== from) known.receive(frame);
      return;
    }
    for (const p of this.ports) if (p !== from) p.receive(frame);
  }
}

export class NetBack extends XenbusBackend {
  readonly counters: NetCounters = { txFrames: 0, txErrors: 0, rxFrames: 0, rxDropped: 0, bytesSent: 0, bytesReceived: 0 };
  private tx: BackRing | null = null;
  private rx: BackRing | null = null;
  private mappings: GrantMapping[] = [];

  /** Announces the interface (handle `handle`, address `mac`) in xenstore and plugs it into the bridge. */
  constructor(x: Xen, d: Domain, readonly handle: number, readonly mac: number[], readonly bridge: Bridge) {
    super(x, d, 'vif', handle);
    const macText = macKey(mac);
    bridge.ports.push(this);
    this.announce(
      { handle: String(handle), mac: macText },
      { handle: String(handle), mac: macText, bridge: bridge.name, 'feature-rx-copy': '1' },
      () => bridge.unplug(this),
    );
  }

  protected get connected(): boolean {
    return this.tx !== null;
  }

  protected connect(): void {
    const txRef = Number(this.read(`${this.frontendPath}/tx-ring-ref`));
    const rxRef = Number(this.read(`${this.frontendPath}/rx-ring-ref`));
    const port = Number(this.read(`${this.frontendPath}/event-channel`));
    if (![txRef, rxRef, port].every(Number.isInteger)) return this.fail('tx-ring-ref, rx-ring-ref or event-channel missing or not a number');
    const tx = hostMapGrant(this.x, this.d, txRef, false);
    if (typeof tx === 'number') return this.fail(`mapping tx-ring-ref ${txRef} failed (${tx})`);
    const rx = hostMapGrant(this.x, this.d, rxRef, false);
    if (typeof rx === 'number') {
      hostUnmapGrant(this.x, tx);
      return this.fail(`mapping rx-ring-ref ${rxRef} failed (${rx})`);
    }
    this.mappings = [tx, rx];
    if (this.x.bindDom0(this.d, port, () => this.kick()) !== 0) return this.fail(`binding event-channel ${port} failed`);
    this.tx = new BackRing(this.x.mem, tx.frame * 4096, 'netif_tx', this.d.counters.io);
    this.rx = new BackRing(this.x.mem, rx.frame * 4096, 'netif_rx', this.d.counters.io);
    this.port = port;
    this.setState(STATE.connected);
  }

  disconnect(): void {
    for (const m of this.mappings) hostUnmapGrant(this.x, m);
    this.mappings = [];
    this.tx = this.rx = null;
    this.releasePort();
  }

  private notify(ring: BackRing): void {
    if (ring.pushResponses()) this.d.events.raise(this.port);
  }

  /** The frontend notified: transmit every queued frame (rx buffers it posted are used as frames arrive). */
  kick(): void {
    const tx = this.tx;
    if (!tx) return;
    do {
      if (tx.overflowed()) return this.fail('the frontend overran the transmit ring');
      const frames: Uint8Array[] = [];
      while (tx.unconsumedRequests() > 0) {
        const req = new DataView(tx.takeRequest().buffer);
        const rsp = new DataView(new ArrayBuffer(4));
        rsp.setUint16(0, req.getUint16(8, true), true);
        const frame = this.transmitted(req);
        rsp.setInt16(2, frame ? RSP_OKAY : RSP_ERROR, true);
        tx.putResponse(new Uint8Array(rsp.buffer));
        if (frame) frames.push(frame);
      }
      this.notify(tx);
      // Frames leave after the responses: a frame to this same domain finds its rx ring as it is.
      for (const f of frames) this.bridge.forward(this, f);
    } while (tx.finalCheckForRequests());
  }

  /** The frame a transmit request names, copied out of the granted page, or null if the request is bad. */
  private transmitted(req: DataView): Uint8Array | null {
    const gref = req.getUint32(0, true), offset = req.getUint16(4, true), flags = req.getUint16(6, true), size = req.getUint16(10, true);
    // One request per frame: fragments and extra-info slots are not offered (no feature-sg, no GSO).
    const bad = flags & (NETTXF_more_data | NETTXF_extra_info) || size < ETH_HEADER || size > ETH_MAX || offset + size > 4096;
    const frame = bad ? -1 : grantedFrame(this.x.mm, this.d, gref, BACKEND_DOMAIN, false);
    if (frame < 0) {
      this.counters.txErrors++;
      return null;
    }
    this.counters.txFrames++;
    this.counters.bytesSent += size;
    this.d.counters.io.bytesMoved += size;
    return this.x.mem.bytes.slice(frame * 4096 + offset, frame * 4096 + offset + size);
  }

  /** A frame from the bridge: into the next buffer the frontend posted, or dropped. */
  receive(frame: Uint8Array): void {
    const rx = this.rx;
    if (rx?.overflowed()) return this.fail('the frontend overran the receive ring');
    if (!rx || rx.unconsumedRequests() === 0) {
      this.counters.rxDropped++;
      return;
    }
    const req = new DataView(rx.takeRequest().buffer);
    const id = req.getUint16(0, true), gref = req.getUint32(4, true);
    let status = frame.length;
    const target = grantedFrame(this.x.mm, this.d, gref, BACKEND_DOMAIN, true);
    // Copied as a grant copy writes: through a writable type, never into a page table.
    if (target < 0 || !this.x.mm.writeData(target, 0, frame)) status = RSP_ERROR;
    else {
      this.counters.rxFrames++;
      this.counters.bytesReceived += frame.length;
      this.d.counters.io.bytesMoved += frame.length;
    }
    const rsp = new DataView(new ArrayBuffer(8));
    rsp.setUint16(0, id, true);
    rsp.setUint16(2, 0, true); // offset
    rsp.setUint16(4, 0, true); // flags
    rsp.setInt16(6, status, true);
    rx.putResponse(new Uint8Array(rsp.buffer));
    this.notify(rx);
  }
}
