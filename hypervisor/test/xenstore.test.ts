// xenstore: the store's rules (paths, permissions, quotas, transactions, watches) and
// the wire protocol over a domain's ring page, as a guest frontend speaks it.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { field, k } from '../src/xen/abi.js';
import type { Domain } from '../src/xen/domain.js';
import { XenStore } from '../src/xen/xenstore/store.js';
import { Xen } from '../src/xen/xen.js';
import { kernel } from './guest.js';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dec = (b: Uint8Array | string) => (typeof b === 'string' ? b : String.fromCharCode(...b));

describe('the xenstore database', () => {
  it('paths: absolute, or relative to the home of the domain; bad ones are EINVAL', () => {
    const s = new XenStore();
    expect(s.canonical(3, 'device/vbd')).toBe('/local/domain/3/device/vbd');
    expect(s.canonical(3, '/tool/x')).toBe('/tool/x');
    for (const bad of ['', 'a//b', '/a/', 'a b', 'a\0b', `/${'x'.repeat(3100)}`, '@introduceDomain']) expect(s.canonical(3, bad)).toBeNull();
    expect(s.read(0, 0, 'a b')).toBe('EINVAL');
  });

  it('write creates missing parents owned by the writer; read, directory, rm (and rm of what is gone)', () => {
    const s = new XenStore();
    expect(s.write(0, 0, '/a/b/c', enc('v'))).toBeNull();
    expect(dec(s.read(0, 0, '/a/b/c') as Uint8Array)).toBe('v');
    expect(dec(s.read(0, 0, '/a/b') as Uint8Array)).toBe('');
    expect(s.directory(0, 0, '/a')).toEqual(['b']);
    expect(s.read(0, 0, '/a/x')).toBe('ENOENT');
    expect(s.rm(0, 0, '/a/b')).toBeNull();
    expect(s.read(0, 0, '/a/b/c')).toBe('ENOENT');
    expect(s.rm(0, 0, '/a/b')).toBeNull(); // already gone, parent exists
    expect(s.rm(0, 0, '/nope/b')).toBe('ENOENT');
    expect(s.rm(0, 0, '/')).toBe('EINVAL');
    expect(s.mkdir(0, 0, '/a/d')).toBeNull();
    expect(s.mkdir(0, 0, '/a/d')).toBeNull();
  });

  it("permissions: owner, per-domain entries and the default; a domain cannot touch another's nodes or give its own away", () => {
    const s = new XenStore();
    s.write(0, 0, '/local/domain/1', enc(''));
    s.setPerms(0, 0, '/local/domain/1', [{ id: 1, perm: 'n' }]);
    expect(s.write(1, 0, 'secret', enc('x'))).toBeNull();
    expect(s.getPerms(1, 0, 'secret')).toEqual([{ id: 1, perm: 'n' }]);
    expect(s.read(2, 0, '/local/domain/1/secret')).toBe('EACCES');
    expect(s.write(2, 0, '/local/domain/1/secret', enc('y'))).toBe('EACCES');
    expect(s.write(2, 0, '/local/domain/1/new', enc('y'))).toBe('EACCES');
    expect(s.rm(2, 0, '/local/domain/1/secret')).toBe('EACCES');
    expect(s.setPerms(1, 0, 'secret', [{ id: 1, perm: 'n' }, { id: 2, perm: 'r' }])).toBeNull();
    expect(dec(s.read(2, 0, '/local/domain/1/secret') as Uint8Array)).toBe('x');
    expect(s.write(2, 0, '/local/domain/1/secret', enc('y'))).toBe('EACCES');
    expect(s.setPerms(2, 0, '/local/domain/1/secret', [{ id: 2, perm: 'b' }])).toBe('EACCES');
    expect(s.setPerms(1, 0, 'secret', [{ id: 2, perm: 'b' }])).toBe('EACCES');
    expect(s.read(0, 0, '/local/domain/1/secret')).not.toBe('EACCES'); // dom0 reads everything
  });

  it('a domain may own at most its quota of nodes', () => {
    const s = new XenStore();
    s.write(0, 0, '/q', enc(''));
    s.setPerms(0, 0, '/q', [{ id: 0, perm: 'w' }]);
    let r: string | null = null;
    let i = 0;
    for (; i < 2000 && r === null; i++) r = s.write(5, 0, `/q/n${i}`, enc(''));
    expect(r).toBe('EQUOTA');
    expect(i).toBe(1001);
  });

  it('transactions see their own changes, commit them at once, and fail with EAGAIN when the store changed meanwhile', () => {
    const s = new XenStore();
    const t = s.transactionStart(0);
    s.write(0, t, '/t/x', enc('1'));
    expect(s.read(0, 0, '/t/x')).toBe('ENOENT');
    expect(dec(s.read(0, t, '/t/x') as Uint8Array)).toBe('1');
    expect(s.transactionEnd(0, t, true)).toBeNull();
    expect(dec(s.read(0, 0, '/t/x') as Uint8Array)).toBe('1');
    const t2 = s.transactionStart(0);
    s.write(0, t2, '/t/x', enc('2'));
    s.write(0, 0, '/t/y', enc('other'));
    expect(s.transactionEnd(0, t2, true)).toBe('EAGAIN');
    expect(dec(s.read(0, 0, '/t/x') as Uint8Array)).toBe('1');
    const t3 = s.transactionStart(0);
    s.write(0, t3, '/t/x', enc('3'));
    expect(s.transactionEnd(0, t3, false)).toBeNull();
    expect(dec(s.read(0, 0, '/t/x') as Uint8Array)).toBe('1');
    expect(s.transactionEnd(0, 999, true)).toBe('ENOENT');
    expect(s.read(0, 999, '/t/x')).toBe('ENOENT');
    // A transaction is its domain's alone: another domain cannot see into it or write in it.
    s.setPerms(0, 0, '/t', [{ id: 0, perm: 'b' }]);
    const t4 = s.transactionStart(1);
    expect(s.write(1, t4, '/t/mine', enc('1'))).toBeNull();
    expect(s.read(2, t4, '/t/mine')).toBe('ENOENT');
    expect(s.write(2, t4, '/t/theirs', enc('2'))).toBe('ENOENT');
    expect(s.transactionEnd(2, t4, true)).toBe('ENOENT');
    expect(s.transactionEnd(1, t4, true)).toBeNull();
    expect(s.read(0, 0, '/t/theirs')).toBe('ENOENT');
  });

  it('watches fire at once, then on changes at or below their path and on removal above it, with relative paths for relative watches', () => {
    const s = new XenStore();
    s.write(0, 0, '/local/domain/4', enc(''));
    s.setPerms(0, 0, '/local/domain/4', [{ id: 4, perm: 'n' }]);
    expect(s.watch(4, 'device', 'tok')).toBeNull();
    expect(s.watch(4, 'device', 'tok')).toBe('EEXIST');
    s.write(0, 0, '/local/domain/4/device/vbd/51712/state', enc('1'));
    s.write(0, 0, '/local/domain/4/other', enc('1'));
    s.rm(0, 0, '/local/domain/4');
    expect(s.events.splice(0)).toEqual([
      { domain: 4, path: 'device', token: 'tok' },
      { domain: 4, path: 'device/vbd/51712/state', token: 'tok' },
      { domain: 4, path: 'device', token: 'tok' },
    ]);
    expect(s.unwatch(4, 'device', 'tok')).toBeNull();
    expect(s.unwatch(4, 'device', 'tok')).toBe('ENOENT');
    // A change inside a transaction fires only when it commits.
    s.watch(0, '/w', 't');
    s.events.splice(0);
    const t = s.transactionStart(0);
    s.write(0, t, '/w/a', enc('1'));
    expect(s.events).toEqual([]);
    s.transactionEnd(0, t, true);
    expect(s.events).toEqual([{ domain: 0, path: '/w/a', token: 't' }]);
  });
});

/** A domain whose kernel does nothing but wait (the tests speak for it on its store ring). */
function idleDomain(): { xen: Xen; d: Domain; page: number } {
  const r = assemble({ path: 'g.xasm', text: kernel('    jmp $'), provider: withBuiltins({ read: () => null }) });
  const xen = new Xen(4096);
  const built = xen.createDomain(guestImage(r.image), { name: 'guest', memoryKiB: 4096 });
  if ('error' in built) throw new Error(built.error);
  const mfn = built.domain.read32(built.layout.startInfo + field('start_info', 'store_mfn'))!;
  return { xen, d: built.domain, page: mfn * 4096 };
}

/** The guest side of the protocol, straight on the ring page. */
function frontend(xen: Xen, d: Domain, page: number) {
  const mem = xen.mem;
  const off = (n: string) => field('xenstore_domain_interface', n);
  let reqId = 0;
  const send = (type: number, payload: string, txId = 0) => {
    const msg = new Uint8Array(16 + payload.length);
    const v = new DataView(msg.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, ++reqId, true);
    v.setUint32(8, txId, true);
    v.setUint32(12, payload.length, true);
    msg.set(enc(payload), 16);
    // As much as the ring has room for, then a notification, until all is sent.
    for (let at = 0; at < msg.length; ) {
      let prod = mem.read32(page + off('req_prod'));
      const room = 1024 - (prod - mem.read32(page + off('req_cons')));
      for (const end = Math.min(msg.length, at + room); at < end; at++) mem.write8(page + off('req') + (prod++ & 1023), msg[at]);
      mem.write32(page + off('req_prod'), prod);
      xen.xenstored.notify(d);
    }
  };
  /** Takes everything in the response ring (a reply may be longer than the ring) and returns the whole messages. */
  let pending: number[] = [];
  const receive = () => {
    let cons = mem.read32(page + off('rsp_cons'));
    const prod = mem.read32(page + off('rsp_prod'));
    for (; cons !== prod; cons = (cons + 1) >>> 0) pending.push(mem.read8(page + off('rsp') + (cons & 1023)));
    mem.write32(page + off('rsp_cons'), cons);
    const out: { type: number; reqId: number; payload: string }[] = [];
    const word = (at: number) => (pending[at] | (pending[at + 1] << 8) | (pending[at + 2] << 16) | (pending[at + 3] << 24)) >>> 0;
    while (pending.length >= 16 && pending.length >= 16 + word(12)) {
      const len = word(12);
      out.push({ type: word(0), reqId: word(4), payload: String.fromCharCode(...pending.slice(16, 16 + len)) });
      pending = pending.slice(16 + len);
    }
    return out;
  };
  return { send, receive };
}

describe('the xenstore wire protocol on a domain ring', () => {
  const XS = (n: string) => k(`XS_${n}`);

  it('every operation answers with its type and request id, errors with XS_ERROR and the errno name', () => {
    const { xen, d, page } = idleDomain();
    const fe = frontend(xen, d, page);
    fe.send(XS('READ'), 'name\0');
    fe.send(XS('WRITE'), 'data/greeting\0hello');
    fe.send(XS('READ'), 'data/greeting\0');
    fe.send(XS('DIRECTORY'), 'data\0');
    fe.send(XS('GET_PERMS'), 'data/greeting\0');
    fe.send(XS('MKDIR'), 'data/dir\0');
    fe.send(XS('RM'), 'data/dir\0');
    fe.send(XS('READ'), '/local/domain/0\0');
    fe.send(XS('WRITE'), '/tool/x\0y');
    fe.send(XS('READ'), 'data/nothing\0');
    fe.send(XS('READ'), 'no terminator');
    fe.send(XS('GET_DOMAIN_PATH'), '7\0');
    fe.send(XS('INTRODUCE'), '1\0');
    fe.send(XS('SET_PERMS'), 'data/greeting\0n1\0r0\0');
    fe.send(99, '');
    expect(fe.receive().map((m) => [m.type === XS('ERROR') ? 'ERROR' : m.type, m.reqId, m.payload])).toEqual([
      [XS('READ'), 1, 'guest'],
      [XS('WRITE'), 2, 'OK\0'],
      [XS('READ'), 3, 'hello'],
      [XS('DIRECTORY'), 4, 'greeting\0'],
      [XS('GET_PERMS'), 5, `n${d.domain}\0`],
      [XS('MKDIR'), 6, 'OK\0'],
      [XS('RM'), 7, 'OK\0'],
      ['ERROR', 8, 'ENOENT\0'],
      ['ERROR', 9, 'EACCES\0'],
      ['ERROR', 10, 'ENOENT\0'],
      ['ERROR', 11, 'EINVAL\0'],
      [XS('GET_DOMAIN_PATH'), 12, '/local/domain/7\0'],
      ['ERROR', 13, 'EACCES\0'],
      [XS('SET_PERMS'), 14, 'OK\0'],
      ['ERROR', 15, 'EINVAL\0'],
    ]);
  });

  it('transactions over the wire, and watch events as XS_WATCH_EVENT messages', () => {
    const { xen, d, page } = idleDomain();
    const fe = frontend(xen, d, page);
    fe.send(XS('WATCH'), 'data\0t1\0');
    fe.send(XS('TRANSACTION_START'), '\0');
    const [watchOk, event0, started] = fe.receive();
    expect([watchOk.payload, event0.type, event0.payload]).toEqual(['OK\0', XS('WATCH_EVENT'), 'data\0t1\0']);
    const tx = Number(started.payload.slice(0, -1));
    expect(tx).toBeGreaterThan(0);
    fe.send(XS('WRITE'), 'data/k\0v', tx);
    fe.send(XS('READ'), 'data/k\0');
    fe.send(XS('TRANSACTION_END'), 'T\0', tx);
    fe.send(XS('READ'), 'data/k\0');
    expect(fe.receive().map((m) => [m.type === XS('ERROR') ? 'ERROR' : m.type, m.payload])).toEqual([
      [XS('WRITE'), 'OK\0'],
      ['ERROR', 'ENOENT\0'], // not visible outside the transaction
      [XS('TRANSACTION_END'), 'OK\0'],
      [XS('WATCH_EVENT'), 'data/k\0t1\0'],
      [XS('READ'), 'v'],
    ]);
    // Dom0 (the toolstack) writing into the domain's tree fires its watch too.
    xen.xenstored.store.write(0, 0, `/local/domain/${d.domain}/data/from-dom0`, enc('1'));
    xen.xenstored.deliver();
    expect(fe.receive().map((m) => m.payload)).toEqual(['data/from-dom0\0t1\0']);
  });

  it('a message may arrive in pieces, replies wait for room in the ring, and a runaway producer is cut off', () => {
    const { xen, d, page } = idleDomain();
    const fe = frontend(xen, d, page);
    const big = 'x'.repeat(3000);
    fe.send(XS('WRITE'), `data/big\0${big}`);
    fe.send(XS('READ'), 'data/big\0');
    const first = fe.receive(); // the write's OK, and the first part of the read's reply is still outside the ring
    expect(first.map((m) => m.payload)).toEqual(['OK\0']);
    xen.xenstored.notify(d); // the guest consumed and notified: more fits
    const rest: string[] = [];
    for (let i = 0; i < 5 && rest.length === 0; i++) {
      rest.push(...fe.receive().map((m) => m.payload));
      xen.xenstored.notify(d);
    }
    expect(rest).toEqual([big]);
    // A producer index more than a ring ahead: the connection is dropped, nothing more is read or answered.
    const at = (n: string) => page + field('xenstore_domain_interface', n);
    xen.mem.write32(at('req_prod'), xen.mem.read32(at('req_cons')) + 5000);
    const before = [xen.mem.read32(at('req_cons')), xen.mem.read32(at('rsp_prod'))];
    xen.xenstored.notify(d);
    xen.xenstored.notify(d);
    expect([xen.mem.read32(at('req_cons')), xen.mem.read32(at('rsp_prod'))]).toEqual(before);
  });
});

describe('xenstore from a guest kernel', () => {
  it('finds its ring and port in start_info, sends XS_READ name, polls, and reads the reply', () => {
    const source = kernel(`
    mov eax, [esi + start_info.store_mfn]
    mov eax, [MACH2PHYS_VIRT_START + eax * 4]   ; its pseudo-physical frame: the boot area maps those 1:1
    shl eax, 12
    add eax, 0xC0000000
    mov ebp, eax                         ; the ring page
    mov eax, [esi + start_info.store_evtchn]
    mov [port], eax
    ; the request: header and payload into req[], then req_prod
    mov esi, request
    mov edi, ebp
    mov ecx, request_len
    rep movsb
    mov dword [ebp + xenstore_domain_interface.req_prod], request_len
    mov ebx, EVTCHNOP_send
    mov ecx, port
    HYPERCALL event_channel_op
.wait:
    cmp dword [ebp + xenstore_domain_interface.rsp_prod], 16 + 6
    jae .got
    mov ebx, SCHEDOP_poll
    mov ecx, poll
    HYPERCALL sched_op
    jmp .wait
.got:
    lea esi, [ebp + xenstore_domain_interface.rsp]
    mov edi, reply
    mov ecx, 16 + 6
    rep movsb
    mov dword [ebp + xenstore_domain_interface.rsp_cons], 16 + 6`, `port: dd 0
poll: dd port, 1
      dq 0
request: dd XS_READ, 7, 0, 5
         db 'name', 0
request_len equ $ - request
reply: times 32 db 0`);
    const r = assemble({ path: 'g.xasm', text: source, provider: withBuiltins({ read: () => null }) });
    if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('\n'));
    const xen = new Xen(4096);
    const built = xen.createDomain(guestImage(r.image), { name: 'reader', memoryKiB: 4096 });
    if ('error' in built) throw new Error(built.error);
    expect(xen.run(built.domain, 1_000_000)).toEqual({ kind: 'ended' });
    expect(built.domain.state).toEqual({ kind: 'shutdown', reason: 0 });
    const reply = built.domain.read(r.image.symbols.find((s) => s.name === 'reply')!.value, 22)!;
    const v = new DataView(reply.buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(12, true), dec(reply.subarray(16, 22))]).toEqual([k('XS_READ'), 7, 6, 'reader']);
  });
});
