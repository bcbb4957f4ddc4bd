// xenstored, built into dom0: each domain talks to the store through its ring page
// (xs_wire.h's xenstore_domain_interface, from start_info.store_mfn) and event channel
// (start_info.store_evtchn). A message is an xsd_sockmsg header and its payload; it may
// arrive in pieces, and replies and watch events go back the same way, as much as fits
// in the ring at a time. Dom0's own code (toolstack, backends) uses the store directly.

import { xenField } from '../../../../isa/src/index.js';
import { ascii, k } from '../abi.js';
import type { Domain } from '../domain.js';
import { homePath, type Perm, type PermLetter, type XenStore, type XsError } from './store.js';

const f = (name: string) => xenField('xenstore_domain_interface', name)!.offset;
const REQ = f('req'), RSP = f('rsp'), REQ_CONS = f('req_cons'), REQ_PROD = f('req_prod'), RSP_CONS = f('rsp_cons'), RSP_PROD = f('rsp_prod');
const RING = k('XENSTORE_RING_SIZE');
const PAYLOAD_MAX = k('XENSTORE_PAYLOAD_MAX');
const HEADER = 16;
const XS = {
  directory: k('XS_DIRECTORY'), read: k('XS_READ'), getPerms: k('XS_GET_PERMS'), watch: k('XS_WATCH'), unwatch: k('XS_UNWATCH'),
  transactionStart: k('XS_TRANSACTION_START'), transactionEnd: k('XS_TRANSACTION_END'), getDomainPath: k('XS_GET_DOMAIN_PATH'),
  write: k('XS_WRITE'), mkdir: k('XS_MKDIR'), rm: k('XS_RM'), setPerms: k('XS_SET_PERMS'), watchEvent: k('XS_WATCH_EVENT'), error: k('XS_ERROR'),
} as const;
/** Operations only a privileged domain may send (the toolstack's). */
const PRIVILEGED = new Set(['XS_CONTROL', 'XS_INTRODUCE', 'XS_RELEASE', 'XS_IS_DOMAIN_INTRODUCED', 'XS_RESUME', 'XS_SET_TARGET'].map(k));

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** One domain's end of the protocol. */
class Connection {
  /** Request bytes taken from the ring but not yet a whole message. */
  private input = new Uint8Array(0);
  /** Reply bytes not yet in the ring. */
  private output: number[] = [];
  /** Messages refused as malformed (the ring is then ignored, as xenstored drops the connection). */
  broken = false;

  constructor(readonly d: Domain, readonly mfn: number, readonly port: number) {}

  private get base(): number {
    return this.mfn * 4096;
  }

  /** Takes what the guest produced; returns the whole messages. */
  take(): { type: number; reqId: number; txId: number; payload: Uint8Array }[] {
    const mem = this.d.cpu.mem;
    const cons = mem.read32(this.base + REQ_CONS), prod = mem.read32(this.base + REQ_PROD);
    const n = (prod - cons) >>> 0;
    if (n > RING) {
      this.broken = true; // a producer more than a ring ahead
      return [];
    }
    const got = new Uint8Array(this.input.length + n);
    got.set(this.input);
    for (let i = 0; i < n; i++) got[this.input.length + i] = mem.read8(this.base + REQ + ((cons + i) & (RING - 1)));
    mem.write32(this.base + REQ_CONS, prod);
    const out = [];
    let at = 0;
    while (got.length - at >= HEADER) {
      const v = new DataView(got.buffer, at);
      const len = v.getUint32(12, true);
      if (len > PAYLOAD_MAX) {
        this.broken = true;
        return out;
      }
      if (got.length - at < HEADER + len) break;
      out.push({ type: v.getUint32(0, true), reqId: v.getUint32(4, true), txId: v.getUint32(8, true), payload: got.slice(at + HEADER, at + HEADER + len) });
      at += HEADER + len;
    }
    this.input = got.slice(at);
    return out;
  }

  send(type: number, reqId: number, txId: number, payload: Uint8Array): void {
    const h = new DataView(new ArrayBuffer(HEADER));
    h.setUint32(0, type, true);
    h.setUint32(4, reqId, true);
    h.setUint32(8, txId, true);
    h.setUint32(12, payload.length, true);
    this.output.push(...new Uint8Array(h.buffer), ...payload);
  }

  /** Writes what fits of the pending replies into the ring; whether anything was written. */
  flush(): boolean {
    const mem = this.d.cpu.mem;
    const cons = mem.read32(this.base + RSP_CONS);
    let prod = mem.read32(this.base + RSP_PROD);
    const room = RING - Math.min(RING, (prod - cons) >>> 0);
    const n = Math.min(room, this.output.length);
    for (let i = 0; i < n; i++, prod = (prod + 1) >>> 0) mem.write8(this.base + RSP + (prod & (RING - 1)), this.output[i]);
    this.output.splice(0, n);
    mem.write32(this.base + RSP_PROD, prod);
    return n > 0;
  }
}

export class Xenstored {
  private readonly connections = new Map<number, Connection>();

  constructor(readonly store: XenStore) {}

  /** Connects a domain's ring page and port, and gives it its home directory. */
  introduce(d: Domain, mfn: number, port: number): void {
    this.connections.set(d.domain, new Connection(d, mfn, port));
    const home = homePath(d.domain);
    const s = this.store;
    // As xl lays it out: the home is dom0's, readable by the domain; these subtrees are the domain's own.
    s.write(0, 0, home, new Uint8Array(0));
    s.setPerms(0, 0, home, [{ id: 0, perm: 'n' }, { id: d.domain, perm: 'r' }]);
    s.write(0, 0, `${home}/name`, ascii(d.name));
    s.write(0, 0, `${home}/domid`, ascii(String(d.domain)));
    for (const sub of ['device', 'data', 'control', 'drivers', 'attr']) {
      s.write(0, 0, `${home}/${sub}`, new Uint8Array(0));
      s.setPerms(0, 0, `${home}/${sub}`, [{ id: d.domain, perm: 'n' }]);
    }
    this.deliver();
  }

  /** Disconnects a destroyed domain: its connection, transactions and watches. */
  release(d: Domain): void {
    this.connections.delete(d.domain);
    this.store.release(d.domain);
  }

  /** The store channel of domain `d` (-1 if it has none). */
  portOf(d: Domain): number {
    return this.connections.get(d.domain)?.port ?? -1;
  }

  /** The domain notified its store channel: answer every whole request, and deliver watch events. */
  notify(d: Domain): void {
    const c = this.connections.get(d.domain);
    if (!c || c.broken) return;
    for (const m of c.take()) this.handle(c, m.type, m.reqId, m.txId, m.payload);
    this.deliver();
  }

  /** Dom0 code (a backend) watching `path` (absolute): `changed` runs after a change at, below or above it. */
  watchDom0(path: string, changed: (path: string) => void): void {
    this.store.dom0Watches.push({ path, changed });
  }

  unwatchDom0(path: string): void {
    const w = this.store.dom0Watches;
    for (let i = w.length - 1; i >= 0; i--) if (w[i].path === path) w.splice(i, 1);
  }

  /** Sends the watch events due and what fits of every pending reply, notifying each domain written to. */
  deliver(): void {
    // Dom0's watchers first: they may write (a backend answering a frontend), which is delivered too.
    for (let n = 0; n < 10_000 && this.store.dom0Events.length > 0; n++) {
      const e = this.store.dom0Events.shift()!;
      e.changed(e.path);
    }
    for (const e of this.store.events.splice(0)) {
      this.connections.get(e.domain)?.send(XS.watchEvent, 0, 0, ascii(`${e.path}\0${e.token}\0`));
    }
    for (const c of this.connections.values()) if (!c.broken && c.flush()) c.d.events.raise(c.port);
  }

  private handle(c: Connection, type: number, reqId: number, txId: number, payload: Uint8Array): void {
    const dom = c.d.domain;
    const s = this.store;
    const reply = (p: Uint8Array | string) => c.send(type, reqId, txId, typeof p === 'string' ? ascii(p) : p);
    const fail = (e: XsError) => c.send(XS.error, reqId, txId, ascii(`${e}\0`));
    const done = (r: XsError | null) => (r === null ? reply('OK\0') : fail(r));
    // Arguments are NUL-terminated strings; a write's value is the rest, as bytes.
    const args = (n: number): string[] | null => {
      const out: string[] = [];
      let at = 0;
      for (let i = 0; i < n; i++) {
        const end = payload.indexOf(0, at);
        if (end < 0) return null;
        out.push(latin1(payload.subarray(at, end)));
        at = end + 1;
      }
      return out;
    };
    if (PRIVILEGED.has(type)) return fail('EACCES');
    const one = args(1);
    switch (type) {
      case XS.read: {
        if (!one) return fail('EINVAL');
        const r = s.read(dom, txId, one[0]);
        return typeof r === 'string' ? fail(r) : reply(r);
      }
      case XS.write: {
        const end = payload.indexOf(0);
        if (end < 0) return fail('EINVAL');
        return done(s.write(dom, txId, latin1(payload.subarray(0, end)), payload.slice(end + 1)));
      }
      case XS.mkdir: return one ? done(s.mkdir(dom, txId, one[0])) : fail('EINVAL');
      case XS.rm: return one ? done(s.rm(dom, txId, one[0])) : fail('EINVAL');
      case XS.directory: {
        if (!one) return fail('EINVAL');
        const r = s.directory(dom, txId, one[0]);
        return typeof r === 'string' ? fail(r) : reply(r.map((x) => `${x}\0`).join(''));
      }
      case XS.getPerms: {
        if (!one) return fail('EINVAL');
        const r = s.getPerms(dom, txId, one[0]);
        return typeof r === 'string' ? fail(r) : reply(r.map((p) => `${p.perm}${p.id}\0`).join(''));
      }
      case XS.setPerms: {
        const parts = latin1(payload).split('\0');
        if (parts.length < 3 || parts[parts.length - 1] !== '') return fail('EINVAL');
        const perms: Perm[] = [];
        for (const p of parts.slice(1, -1)) {
          const m = /^([nrwb])(\d+)$/.exec(p);
          if (!m) return fail('EINVAL');
          perms.push({ perm: m[1] as PermLetter, id: Number(m[2]) });
        }
        return done(s.setPerms(dom, txId, parts[0], perms));
      }
      case XS.watch: case XS.unwatch: {
        const two = args(2);
        if (!two) return fail('EINVAL');
        return done(type === XS.watch ? s.watch(dom, two[0], two[1]) : s.unwatch(dom, two[0], two[1]));
      }
      case XS.transactionStart:
        if (txId !== 0) return fail('EBUSY'); // no nesting
        return c.send(type, reqId, 0, ascii(`${s.transactionStart(dom)}\0`));
      case XS.transactionEnd:
        if (!one || (one[0] !== 'T' && one[0] !== 'F')) return fail('EINVAL');
        return done(s.transactionEnd(dom, txId, one[0] === 'T'));
      case XS.getDomainPath:
        if (!one || !/^\d+$/.test(one[0])) return fail('EINVAL');
        return reply(`${homePath(Number(one[0]))}\0`);
      default:
        return fail('EINVAL');
    }
  }
}
