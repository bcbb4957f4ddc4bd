// Guests are adversaries: random hypercalls with random arguments, some pointing at
// random guest memory, never throw in the hypervisor, never hang, and never break the
// isolation invariants.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/assembler.js';
import { withBuiltins } from '../../asm/src/builtins.js';
import { guestImage } from '../../cli/src/run.js';
import { EAX, EBX, ECX, EDI, EDX, ESI } from '../src/cpu.js';
import { hypercall } from '../src/xen/hypercalls.js';
import { destroyDomain } from '../src/xen/control.js';
import { setupTable } from '../src/xen/grant-table.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { Xen } from '../src/xen/xen.js';
import { Rng } from './diff/generator.js';
import { kernel } from './guest.js';

const RUNS = Number(process.env.XENOLAB_HCALL_FUZZ ?? 3000);

describe('hypercall fuzzing', () => {
  it(`${RUNS} random hypercalls keep the hypervisor whole`, () => {
    const r = assemble({ path: 'f.xasm', text: kernel('nop', 'scratch: times 8192 db 0'), provider: withBuiltins({ read: () => null }) });
    const xen = new Xen(4096);
    const free0 = Array.from(xen.frames.owner).filter((o) => o === -1).length;
    const built = xen.createDomain(guestImage(r.image), { name: 'fuzz', memoryKiB: 8192, vcpus: 4 });
    if ('error' in built) throw new Error(built.error);
    const d = built.domain;
    const scratch = r.image.symbols.find((s) => s.name === 'scratch')!.value;
    const rng = new Rng(4242);
    const pointerish = () => {
      const k = rng.int(6);
      if (k === 0) return scratch + rng.int(8192);
      if (k === 1) return 0xc0000000 + rng.int(0x400000); // anywhere in the boot area (page tables included)
      if (k === 2) return rng.int(0x10000);
      if (k === 3) return d.p2m[rng.int(d.p2m.length)] * 4096 + rng.int(1024) * 4; // a machine address of ours
      return rng.value();
    };
    for (let i = 0; i < RUNS; i++) {
      // fill part of the scratch area with random bytes, or with plausible requests
      const junk = new Uint8Array(64);
      for (let k = 0; k < junk.length; k += 4) {
        const v = rng.int(2) ? pointerish() : rng.value();
        junk[k] = v & 0xff;
        junk[k + 1] = (v >>> 8) & 0xff;
        junk[k + 2] = (v >>> 16) & 0xff;
        junk[k + 3] = (v >>> 24) & 0xff;
      }
      d.write(scratch + rng.int(64) * 64, junk);
      const regs = d.cpu.regs;
      regs[EAX] = rng.int(8) === 0 ? rng.value() : rng.int(40);
      for (const reg of [EBX, ECX, EDX, ESI, EDI]) regs[reg] = rng.int(3) === 0 ? rng.int(16) : pointerish();
      // A third are plausible page-table operations on our own frames, so that the
      // success paths run too (and their count bookkeeping is checked).
      const own = () => d.p2m[rng.int(d.p2m.length)];
      const pte = () => ((own() << 12) | rng.pick([1, 3, 5, 7, 0x21, 0x23, 0x63, 0x101, 0x83, 0])) >>> 0;
      const plausible = rng.int(4);
      if (plausible === 0) {
        const n = 1 + rng.int(4);
        const reqs = new Uint8Array(16 * n);
        const dv = new DataView(reqs.buffer);
        const tables = [d.active.baseMfn, ...d.p2m.slice(0, 1100).filter((m) => xen.frames.typeRefs[m] > 0 && xen.frames.type[m] === 1)];
        for (let k = 0; k < n; k++) {
          dv.setUint32(16 * k, ((rng.int(4) ? rng.pick(tables) : own()) * 4096 + rng.int(1024) * 4 + rng.int(3)) >>> 0, true);
          dv.setUint32(16 * k + 8, pte(), true);
        }
        d.write(scratch, reqs);
        regs[EAX] = 1; regs[EBX] = scratch; regs[ECX] = n; regs[EDX] = scratch + 4096; regs[ESI] = 0x7ff0;
      } else if (plausible === 1) {
        const op = new Uint8Array(12);
        const dv = new DataView(op.buffer);
        dv.setUint32(0, rng.pick([0, 1, 4, 6, 7, 10]), true); // not NEW_BASEPTR: an empty directory would end the run
        dv.setUint32(4, rng.int(2) ? own() : rng.int(0x10000) * 4096, true);
        d.write(scratch, op);
        regs[EAX] = 26; regs[EBX] = scratch; regs[ECX] = 1; regs[EDX] = 0; regs[ESI] = 0x7ff0;
      } else if (plausible === 3) {
        // vcpu_op on another vCPU: a context with plausible and random parts, or up/down/is_up
        const ctx = new Uint8Array(2800);
        const dv = new DataView(ctx.buffer);
        for (let k = 0; k < 40; k++) dv.setUint32(rng.int(700) * 4, rng.int(2) ? pointerish() : rng.value(), true);
        const tables = [d.active.baseMfn, ...d.p2m.slice(0, 1100).filter((m) => xen.frames.typeRefs[m] > 0 && xen.frames.type[m] === 2)];
        dv.setUint32(2716 + 12, (rng.int(3) ? rng.pick(tables) : own()) * 4096 + (rng.int(8) ? 0 : rng.int(4096)), true); // ctrlreg[3]
        dv.setUint32(2704, rng.pick([0, 0, 1, 512, 513, 14 * 512, rng.value()]), true); // gdt_ents
        dv.setUint32(2640, own(), true);
        dv.setUint32(2644, own(), true);
        dv.setUint32(2632, rng.int(4) ? 0 : rng.value(), true); // ldt_base
        dv.setUint32(2636, rng.int(4) ? 0 : rng.value(), true); // ldt_ents
        d.write(scratch, ctx);
        regs[EAX] = 24; regs[EBX] = rng.pick([0, 0, 1, 2, 3]); regs[ECX] = rng.int(5); regs[EDX] = scratch;
      } else if (rng.int(2)) {
        regs[EAX] = 14; regs[EBX] = 0xc0000000 + rng.int(1024) * 4096; regs[ECX] = pte(); regs[EDX] = 0; regs[ESI] = rng.int(3);
      }
      expect(() => hypercall(xen, d)).not.toThrow();
      // a shutdown, crash or block ends the domain's run; start it afresh for the next call
      if (d.state.kind !== 'running' || d.active.blocked) {
        d.state = { kind: 'running' };
        d.active.blocked = false;
      }
      if (i % 50 === 0) expect(checkInvariants(xen.mm, d.tablesHeld), `after call ${i}`).toEqual([]);
    }
    expect(checkInvariants(xen.mm, d.tablesHeld)).toEqual([]);
    expect(d.vcpus.filter((v) => v.initialised).length, 'some vCPUs were initialised').toBeGreaterThan(1);
    // The vCPUs those random contexts started, run: wild registers, tables and callbacks
    // crash the domain at worst, never the hypervisor.
    d.state = { kind: 'running' };
    for (const v of d.vcpus) if (v.initialised) v.up = true;
    expect(() => xen.run(d, 2_000_000)).not.toThrow();
    expect(checkInvariants(xen.mm, d.tablesHeld)).toEqual([]);
    // Destroying it lets go of every vCPU's page directory and GDT: every frame is free again.
    expect(destroyDomain(xen, d)).toBe(0);
    expect(Array.from(xen.frames.owner).filter((o) => o === -1).length).toBe(free0);
  });
});

describe('two adversarial domains', () => {
  it(`${RUNS} random grant and event operations between them keep both whole, and destroying them frees everything`, () => {
    const r = assemble({ path: 'f.xasm', text: kernel('nop', 'scratch: times 8192 db 0'), provider: withBuiltins({ read: () => null }) });
    const xen = new Xen(8192);
    const free0 = Array.from(xen.frames.owner).filter((o) => o === -1).length;
    const make = (name: string) => {
      const b = xen.createDomain(guestImage(r.image), { name, memoryKiB: 8192 });
      if ('error' in b) throw new Error(b.error);
      return b.domain;
    };
    const a = make('a'), b = make('b');
    const scratch = r.image.symbols.find((s) => s.name === 'scratch')!.value;
    const rng = new Rng(777);
    const table = setupTable(xen, a, 0x7ff0, 2) as number[];
    const frameOf = (d: typeof a) => rng.pick([d.active.baseMfn, ...d.grants.frames, d.p2m[rng.int(d.p2m.length)], d.p2m[rng.int(64)]]);
    const regrant = () => {
      const ref = rng.int(1100);
      if (ref >= 1024) return;
      const at = table[ref >> 9] * 4096 + (ref & 511) * 8;
      xen.mem.write16(at + 2, rng.pick([b.domain, a.domain, 7, 0]));
      xen.mem.write32(at + 4, rng.int(5) === 0 ? rng.value() : frameOf(rng.int(3) ? a : b));
      xen.mem.write16(at, rng.pick([0, 1, 1, 1 | 4, 2, 1 | 8]));
    };
    for (let i = 0; i < 400; i++) regrant();
    const anyDom = () => rng.pick([a.domain, b.domain, 0x7ff0, 99, 0]);
    const va = () => (rng.int(4) ? 0xc0000000 + rng.int(2048) * 4096 : rng.value());
    for (let i = 0; i < RUNS; i++) {
      const who = rng.int(4) ? b : a;
      const op = new Uint8Array(32);
      const dv = new DataView(op.buffer);
      const regs = who.cpu.regs;
      const kind = rng.int(6);
      if (kind === 0) regrant();
      if (kind <= 1) {
        dv.setUint32(0, va(), true);
        dv.setUint32(8, rng.int(32), true); // GNTMAP_* flags
        dv.setUint32(12, rng.int(1100), true);
        dv.setUint16(16, anyDom(), true);
        regs[EAX] = 20; regs[ECX] = 0; regs[EDX] = 1 + rng.int(2);
      } else if (kind === 2) {
        dv.setUint32(0, va(), true);
        dv.setUint32(8, rng.int(2) ? 0 : rng.value(), true);
        dv.setUint32(16, rng.int(12), true);
        regs[EAX] = 20; regs[ECX] = 1; regs[EDX] = 1;
      } else if (kind === 3) {
        for (const at of [0, 8]) {
          dv.setUint32(at, rng.int(2) ? rng.int(1100) : frameOf(rng.int(2) ? a : b), true);
          dv.setUint16(at + 4, anyDom(), true);
          dv.setUint16(at + 6, rng.int(4200), true);
        }
        dv.setUint16(16, rng.int(5000), true);
        dv.setUint16(18, rng.int(4), true);
        regs[EAX] = 20; regs[ECX] = 5; regs[EDX] = 1;
      } else if (kind === 4) {
        // an mmu_update over one of our page-table entries (maybe one that maps a grant)
        const ptes = [...xen.mm.grantPtes.keys()];
        const target = ptes.length && rng.int(2) ? rng.pick(ptes) : who.active.baseMfn * 4096 + rng.int(1024) * 4;
        dv.setUint32(0, target, true);
        dv.setUint32(8, rng.int(2) ? 0 : (frameOf(rng.pick([a, b])) << 12) | rng.pick([1, 3, 0x21]), true);
        regs[EAX] = 1; regs[ECX] = 1; regs[EDX] = 0; regs[ESI] = 0x7ff0;
      } else {
        // event channels between the two: offer, bind, send, close
        dv.setUint16(0, rng.pick([0x7ff0, who.domain]), true);
        dv.setUint16(2, rng.pick([a.domain, b.domain, 5]), true);
        dv.setUint32(4, rng.int(8), true);
        regs[EAX] = 32; regs[EBX] = rng.pick([0, 1, 4, 3, 5]); regs[ECX] = scratch;
      }
      if (regs[EAX] !== 32) regs[EBX] = scratch;
      who.write(scratch, op);
      expect(() => hypercall(xen, who)).not.toThrow();
      if (who.state.kind !== 'running' || who.active.blocked) {
        who.state = { kind: 'running' };
        who.active.blocked = false;
      }
      if (i % 25 === 0) {
        const devices = [a, b].flatMap((d) => d.grants.maptrack.filter((m) => m !== null && m.pte < 0).map((m) => ({ frame: m!.frame, readonly: m!.readonly })));
        expect(checkInvariants(xen.mm, [a.active.baseMfn, b.active.baseMfn], devices), `after call ${i}`).toEqual([]);
      }
    }
    expect(destroyDomain(xen, b)).toBe(0);
    expect(destroyDomain(xen, a)).toBe(0);
    expect(checkInvariants(xen.mm, [])).toEqual([]);
    expect(Array.from(xen.frames.owner).filter((o) => o === -1).length).toBe(free0);
  });
});
