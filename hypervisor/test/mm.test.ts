// Validated page tables: every rule of Xen's mm.c that a guest meets, positive and
// negative, with Xen's errno and `done` counts, and the isolation invariants checked after
// every operation.

import { describe, expect, it } from 'vitest';
import { Cpu, CR0_PG, EAX, PFV } from '../src/cpu.js';
import { PhysicalMemory } from '../src/memory.js';
import { EBUSY, EINVAL, ENOSYS, EPERM, HYPERVISOR_L2_SLOT } from '../src/xen/abi.js';
import { FrameTable, PGT_L1, PGT_L2, PGT_WRITABLE } from '../src/xen/frames.js';
import { checkInvariants } from '../src/xen/invariants.js';
import { Rng } from './diff/generator.js';
import { extOpWords, MemoryManager, MMU_MACHPHYS_UPDATE, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_NO_TRANSLATE, MMU_PT_UPDATE_PRESERVE_AD, MMUEXT, updateWords, UVMF_ALL, UVMF_INVLPG, type VcpuContext } from '../src/xen/mm.js';
import { xenConstant } from '../../isa/src/index.js';

const P = 1, RW = 2, U = 4, A = 0x20, D = 0x40;

function setup() {
  const mem = new PhysicalMemory(64);
  const frames = new FrameTable(64);
  const mm = new MemoryManager(mem, frames);
  const mine = frames.allocate(1, 24)!; // frames 0..23
  const theirs = frames.allocate(2, 8)!; // frames 24..31
  const cpu = new Cpu(mem);
  const v: VcpuContext = { domain: 1, cpu, baseMfn: -1, siblings: [cpu] };
  const entry = (mfn: number, flags: number) => ((mfn << 12) | flags) >>> 0;
  const write = (table: number, i: number, val: number) => mem.write32(table * 4096 + i * 4, val);
  const invariants = () => expect(checkInvariants(mm, [v.baseMfn])).toEqual([]);
  const pin = (mfn: number, level: 1 | 2) => mm.mmuextOp(extOpWords([{ cmd: level === 1 ? MMUEXT.PIN_L1_TABLE : MMUEXT.PIN_L2_TABLE, arg1: mfn, arg2: 0 }]), v);
  const update = (table: number, i: number, val: number, cmd = MMU_NORMAL_PT_UPDATE) => ({ ptr: table * 4096 + i * 4 + cmd, val });
  return { mem, frames, mm, mine, theirs, cpu, v, entry, write, invariants, pin, update };
}

describe('page-table validation (pinning)', () => {
  it('an L1 of read-only and writable mappings of own ordinary frames validates; counts follow', () => {
    const t = setup();
    t.write(10, 0, t.entry(3, P | U));
    t.write(10, 1, t.entry(4, P | RW | U));
    expect(t.pin(10, 1)).toEqual({ rc: 0, done: 1 });
    expect(t.frames.type[10]).toBe(PGT_L1);
    expect(t.frames.type[4]).toBe(PGT_WRITABLE);
    expect([t.frames.refs[3], t.frames.refs[4], t.frames.typeRefs[4]]).toEqual([2, 2, 1]);
    t.invariants();
  });

  it('refuses an L1 that maps itself writable (EBUSY), and leaves nothing behind', () => {
    const t = setup();
    t.write(10, 0, t.entry(3, P | RW));
    t.write(10, 5, t.entry(10, P | RW));
    expect(t.pin(10, 1)).toEqual({ rc: EBUSY, done: 0 });
    expect(t.frames.typeRefs[10]).toBe(0);
    expect(t.frames.refs[3]).toBe(1);
    t.invariants();
  });

  it('a page table may map itself read-only', () => {
    const t = setup();
    t.write(10, 5, t.entry(10, P));
    expect(t.pin(10, 1).rc).toBe(0);
    t.invariants();
  });

  it("refuses an L1 that maps another domain's frame (EBUSY)", () => {
    const t = setup();
    t.write(10, 0, t.entry(t.theirs[0], P));
    expect(t.pin(10, 1)).toEqual({ rc: EBUSY, done: 0 });
    t.invariants();
  });

  it('refuses an L1 that maps memory that is not RAM (EPERM) or uses disallowed bits (EINVAL)', () => {
    const t = setup();
    t.write(10, 0, t.entry(5000, P));
    expect(t.pin(10, 1).rc).toBe(EPERM);
    t.write(10, 0, t.entry(3, P | 0x100));
    expect(t.pin(10, 1).rc).toBe(EINVAL);
    t.invariants();
  });

  it('refuses to pin a frame that is mapped writable (it cannot become a page table)', () => {
    const t = setup();
    t.write(10, 0, t.entry(11, P | RW));
    expect(t.pin(10, 1).rc).toBe(0);
    expect(t.pin(11, 1)).toEqual({ rc: EINVAL, done: 0 });
    t.invariants();
  });

  it('refuses a writable mapping of a pinned page table (EBUSY)', () => {
    const t = setup();
    expect(t.pin(11, 1).rc).toBe(0);
    t.write(10, 0, t.entry(11, P | RW));
    expect(t.pin(10, 1).rc).toBe(EBUSY);
    t.write(10, 0, t.entry(11, P));
    expect(t.pin(10, 1).rc).toBe(0);
    t.invariants();
  });

  it('pinning twice, unpinning what is not pinned, and pinning a foreign frame are EINVAL', () => {
    const t = setup();
    expect(t.pin(10, 1).rc).toBe(0);
    expect(t.pin(10, 1)).toEqual({ rc: EINVAL, done: 0 });
    expect(t.mm.mmuextOp(extOpWords([{ cmd: MMUEXT.UNPIN_TABLE, arg1: 12, arg2: 0 }]), t.v).rc).toBe(EINVAL);
    expect(t.pin(t.theirs[1], 1).rc).toBe(EINVAL);
    t.invariants();
  });

  it('an L2 validates the L1s it points at; the hole is Xen\'s; unpinning releases everything', () => {
    const t = setup();
    t.mm.xenL2Entries[0] = 0x12345001;
    t.write(10, 0, t.entry(3, P | RW | U));
    t.write(12, 0, t.entry(10, P | RW | U));
    t.write(12, HYPERVISOR_L2_SLOT + 1, t.entry(4, P | RW | U)); // the guest's try at the hole: overwritten
    expect(t.pin(12, 2)).toEqual({ rc: 0, done: 1 });
    expect([t.frames.type[10], t.frames.typeRefs[10], t.frames.type[12]]).toEqual([PGT_L1, 1, PGT_L2]);
    expect(t.mem.read32(12 * 4096 + HYPERVISOR_L2_SLOT * 4)).toBe(0x12345001);
    expect(t.mem.read32(12 * 4096 + (HYPERVISOR_L2_SLOT + 1) * 4)).toBe(0);
    t.invariants();
    expect(t.mm.mmuextOp(extOpWords([{ cmd: MMUEXT.UNPIN_TABLE, arg1: 12, arg2: 0 }]), t.v)).toEqual({ rc: 0, done: 1 });
    expect([t.frames.typeRefs[10], t.frames.typeRefs[12], t.frames.refs[3], t.frames.refs[10]]).toEqual([0, 0, 1, 1]);
    t.invariants();
  });

  it('an L2 may not point at itself or at a frame in use as another type', () => {
    const t = setup();
    t.write(12, 0, t.entry(12, P));
    expect(t.pin(12, 2).rc).toBe(EINVAL);
    t.write(12, 0, t.entry(10, P));
    t.write(9, 0, t.entry(10, P | RW)); // frame 10 mapped writable by a pinned L1
    expect(t.pin(9, 1).rc).toBe(0);
    expect(t.pin(12, 2).rc).toBe(EINVAL);
    t.invariants();
  });
});

describe('mmu_update', () => {
  function withTables() {
    const t = setup();
    expect(t.pin(10, 1).rc).toBe(0); // an empty page table
    t.write(12, 0, t.entry(10, P | RW | U));
    expect(t.mm.newBaseptr(12, t.v)).toBe(0);
    t.invariants();
    return t;
  }

  it('installs, changes and removes page-table entries, with the counts following', () => {
    const t = withTables();
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(3, P | RW)), t.update(10, 1, t.entry(3, P))]), t.v)).toEqual({ rc: 0, done: 2 });
    expect([t.frames.refs[3], t.frames.type[3], t.frames.typeRefs[3]]).toEqual([3, PGT_WRITABLE, 1]);
    t.invariants();
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, 0)]), t.v).rc).toBe(0);
    expect([t.frames.refs[3], t.frames.typeRefs[3]]).toEqual([2, 0]);
    t.invariants();
  });

  it('stops at the first failing entry and reports how many succeeded', () => {
    const t = withTables();
    const r = t.mm.mmuUpdate(updateWords([
      t.update(10, 0, t.entry(3, P)),
      t.update(10, 1, t.entry(t.theirs[0], P)), // another domain's frame
      t.update(10, 2, t.entry(4, P)),
    ]), t.v);
    expect(r).toEqual({ rc: EBUSY, done: 1 });
    expect(t.mem.read32(10 * 4096 + 8)).toBe(0); // the third was never processed
    t.invariants();
  });

  it('refuses to map a page table writable (EBUSY), and a table of another domain (EINVAL)', () => {
    const t = withTables();
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(10, P | RW))]), t.v).rc).toBe(EBUSY);
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(12, P | RW))]), t.v).rc).toBe(EBUSY);
    expect(t.mm.mmuUpdate(updateWords([t.update(t.theirs[0], 0, 0)]), t.v)).toEqual({ rc: EINVAL, done: 0 });
    t.invariants();
  });

  it('page-directory entries: the hole refuses (EINVAL), a writable frame cannot become a page table', () => {
    const t = withTables();
    expect(t.mm.mmuUpdate(updateWords([t.update(12, HYPERVISOR_L2_SLOT, t.entry(10, P))]), t.v).rc).toBe(EINVAL);
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(5, P | RW))]), t.v).rc).toBe(0);
    expect(t.mm.mmuUpdate(updateWords([t.update(12, 1, t.entry(5, P | RW))]), t.v).rc).toBe(EINVAL);
    expect(t.mm.mmuUpdate(updateWords([t.update(12, 1, t.entry(6, P | RW))]), t.v).rc).toBe(0); // frame 6: validated as an empty L1
    expect(t.frames.type[6]).toBe(PGT_L1);
    t.invariants();
  });

  it('writes ordinary memory, preserves A/D on request, updates the M2P of own frames only, and refuses unknown commands', () => {
    const t = withTables();
    expect(t.mm.mmuUpdate(updateWords([t.update(7, 3, 0xdeadbeef)]), t.v).rc).toBe(0);
    expect(t.mem.read32(7 * 4096 + 12)).toBe(0xdeadbeef);
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(3, P | A | D))]), t.v).rc).toBe(0);
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(3, P), MMU_PT_UPDATE_PRESERVE_AD)]), t.v).rc).toBe(0);
    expect(t.mem.read32(10 * 4096) & (A | D)).toBe(A | D);
    expect(t.mm.mmuUpdate(updateWords([{ ptr: 7 * 4096 + MMU_MACHPHYS_UPDATE, val: 42 }]), t.v).rc).toBe(0);
    expect(t.frames.m2p[7]).toBe(42);
    expect(t.mm.mmuUpdate(updateWords([{ ptr: t.theirs[0] * 4096 + MMU_MACHPHYS_UPDATE, val: 42 }]), t.v).rc).toBe(EINVAL);
    expect(t.mm.mmuextOp(extOpWords([{ cmd: 99, arg1: 0, arg2: 0 }]), t.v)).toEqual({ rc: ENOSYS, done: 0 });
    // a 32-bit non-PAE Xen ignores pins of L3 and L4 tables (any frame, even another's), and has no NEW_USER_BASEPTR
    const ignored = [MMUEXT.PIN_L3_TABLE, MMUEXT.PIN_L4_TABLE].map((cmd) => ({ cmd, arg1: t.theirs[0], arg2: 0 }));
    expect(t.mm.mmuextOp(extOpWords(ignored), t.v)).toEqual({ rc: 0, done: 2 });
    expect(t.frames.isPinned(t.theirs[0])).toBe(false);
    expect(t.mm.mmuextOp(extOpWords([{ cmd: xenConstant('MMUEXT_NEW_USER_BASEPTR')!.value, arg1: 7, arg2: 0 }]), t.v)).toEqual({ rc: ENOSYS, done: 0 });
    t.invariants();
  });
});

/** The first index where two arrays differ, or -1 (toEqual on 64K words is slow). */
function firstDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe('mmu_update batches', () => {
  /** Pinned L1s 10 and 11, L1 13 held only by the pinned directory 12 (slot 1), directory in CR3. */
  function tables() {
    const t = setup();
    expect(t.pin(10, 1).rc).toBe(0);
    expect(t.pin(11, 1).rc).toBe(0);
    t.write(12, 0, t.entry(10, P | RW | U));
    t.write(12, 1, t.entry(13, P | RW | U));
    expect(t.pin(12, 2).rc).toBe(0);
    expect(t.mm.newBaseptr(12, t.v)).toBe(0);
    t.invariants();
    return t;
  }

  it('a batch gives what its requests give one at a time (with every frame clean, so each takes all the checks)', () => {
    const a = tables(), b = tables();
    const rng = new Rng(77);
    const flags = [P, P | RW, P | A | D, P | U, P | RW | U | A | D, 0, P | 0x100, P | 0x80];
    const frame = () => rng.pick([1, 2, 3, 4, 10, 11, 12, 13, 20, a.theirs[0], 5000]);
    for (let round = 0; round < 400; round++) {
      const list = Array.from({ length: 1 + rng.int(12) }, () => {
        const table = rng.pick([10, 10, 10, 11, 13, 12, 7, a.theirs[0]]);
        const cmd = rng.pick([MMU_NORMAL_PT_UPDATE, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_PRESERVE_AD, MMU_PT_UPDATE_NO_TRANSLATE, MMU_MACHPHYS_UPDATE]);
        return { ptr: table * 4096 + rng.int(4) * 4 + cmd, val: rng.int(8) === 0 ? rng.u32() : a.entry(frame(), rng.pick(flags)) };
      });
      const words = updateWords(list);
      if (rng.int(30) === 0) words[rng.int(list.length) * 4 + 1 + 2 * rng.int(2)] = 1; // a high half set
      const batched = a.mm.mmuUpdate(words, a.v);
      let single = { rc: 0, done: 0 };
      for (let i = 0; i < list.length && single.rc === 0; i++) {
        b.mem.takeDirty();
        const r = b.mm.mmuUpdate(words.subarray(i * 4, i * 4 + 4), b.v);
        single = { rc: r.rc, done: single.done + r.done };
      }
      expect(batched).toEqual(single);
      for (const [x, y] of [[a.mem.words, b.mem.words], ...(['owner', 'refs', 'type', 'typeRefs', 'm2p'] as const).map((k) => [a.frames[k], b.frames[k]])]) {
        expect(firstDifference(x, y)).toBe(-1);
      }
      a.invariants();
    }
  });

  it('the page tables a batch writes are marked written (snapshots keep them)', () => {
    const t = tables();
    t.mem.takeDirty();
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(3, P)), t.update(10, 1, t.entry(4, P)), t.update(11, 0, t.entry(3, P))]), t.v).rc).toBe(0);
    expect(t.mem.takeDirty().sort((x, y) => x - y)).toEqual([10, 11]);
  });

  it('an L2 change in a batch that drops an L1 makes its later requests plain writes', () => {
    const t = tables();
    const r = t.mm.mmuUpdate(updateWords([
      t.update(13, 0, t.entry(3, P)),
      t.update(12, 1, 0), // 13's last type reference goes
      t.update(13, 1, t.entry(10, P | RW)), // a writable mapping of a page table, but 13 is ordinary now
    ]), t.v);
    expect(r).toEqual({ rc: 0, done: 3 });
    expect(t.frames.typeRefs[13]).toBe(0);
    expect(t.frames.refs[3]).toBe(1); // the entry it held was put with the table
    expect(t.mem.read32(13 * 4096 + 4)).toBe(t.entry(10, P | RW));
    t.invariants();
  });

  it('every write of a batch into a watched page table is seen, and one into decoded code drops it', () => {
    const t = tables();
    t.mm.mmuUpdate(updateWords([t.update(10, 0, t.entry(3, P)), t.update(11, 0, t.entry(3, P))]), t.v); // both dirty
    let seen = 0;
    t.mem.onWatch = () => seen++;
    t.mem.setWatches([{ id: 1, start: 10 * 4096, length: 4096, read: false, write: true }]);
    const dropped: number[] = [];
    t.mem.attach({ dropCode: (f) => dropped.push(f), frameBecameCode() {}, forgetWriteRights() {}, frameWatched() {}, dropAllCode() {} });
    t.mem.codeCached(11, 8, 4); // entry 2 of table 11 was decoded as an instruction
    const r = t.mm.mmuUpdate(updateWords([0, 1, 2, 3].flatMap((i) => [t.update(10, i, t.entry(4, P)), t.update(11, i, t.entry(4, P))])), t.v);
    expect(r).toEqual({ rc: 0, done: 8 });
    expect(seen).toBe(4);
    expect(dropped).toEqual([11]);
    expect(t.mem.codeFrame[11]).toBe(0);
    t.invariants();
  });
});

describe('the guest on validated page tables', () => {
  /** A domain whose kernel runs at ring 1: code in frame 2 at 0x400000, its page tables read-only at 0x401000/0x402000. */
  function booted(code: number[]) {
    const t = setup();
    t.mem.load(2 * 4096, new Uint8Array(code));
    t.write(10, 0, t.entry(2, P | U));              // 0x400000: code
    t.write(10, 1, t.entry(10, P | U));             // 0x401000: the page table itself, read-only
    t.write(10, 2, t.entry(12, P | U));             // 0x402000: the page directory, read-only
    t.write(10, 3, t.entry(3, P | RW | U));         // 0x403000: data
    t.write(12, 1, t.entry(10, P | RW | U));        // page directory slot 1 = 0x400000
    expect(t.pin(12, 2).rc).toBe(0);
    expect(t.mm.newBaseptr(12, t.v)).toBe(0);
    t.cpu.cr0 |= CR0_PG; // a PV guest always runs with paging on
    t.cpu.setSegments(0x19, 0x21);
    t.cpu.eip = 0x400000;
    t.invariants();
    return t;
  }

  it('a direct store into a pinned page table is a page fault (P|W), and nothing changes', () => {
    // mov dword [0x401010], 0x3007 ; tries to map frame 3 writable through the table itself
    const t = booted([0xc7, 0x05, 0x10, 0x10, 0x40, 0x00, 0x07, 0x30, 0x00, 0x00]);
    expect(t.cpu.run(10)).toEqual({ kind: 'exception', vector: PFV, errorCode: 3, software: false });
    expect(t.cpu.cr2).toBe(0x401010);
    expect(t.mem.read32(10 * 4096 + 0x10)).toBe(0);
    t.invariants();
  });

  it('update_va_mapping changes a mapping the guest then sees (after its own INVLPG flush)', () => {
    // mov eax, [0x403000] ; twice, with the mapping changed in between
    const t = booted([0xa1, 0x00, 0x30, 0x40, 0x00, 0xa1, 0x00, 0x30, 0x40, 0x00]);
    t.mem.write32(3 * 4096, 111);
    t.mem.write32(4 * 4096, 222);
    t.cpu.run(1);
    expect(t.cpu.regs[EAX]).toBe(111);
    expect(t.mm.updateVaMapping(0x403000, t.entry(4, P | U), UVMF_INVLPG, t.v)).toBe(0);
    t.invariants();
    t.cpu.run(1);
    expect(t.cpu.regs[EAX]).toBe(222);
    expect(t.mm.updateVaMapping(0xfc000000, t.entry(4, P), 0, t.v)).toBe(EINVAL);
    expect(t.mm.updateVaMapping(0x800000, t.entry(4, P), 0, t.v)).toBe(EINVAL); // no page table maps it
    expect(t.mm.updateVaMapping(0x403000, t.entry(10, P | RW), 0, t.v)).toBe(EBUSY);
    t.invariants();
  });

  it('a flush reaches the other vCPUs only when asked to (UVMF_ALL, the *_ALL and *_MULTI extended ops)', () => {
    // mov eax, [0x403000] ; three times, on two vCPUs sharing the page directory
    const code = [0xa1, 0x00, 0x30, 0x40, 0x00, 0xa1, 0x00, 0x30, 0x40, 0x00, 0xa1, 0x00, 0x30, 0x40, 0x00];
    const t = booted(code);
    const other = new Cpu(t.mem);
    other.cr0 |= CR0_PG;
    other.cr3 = 12 * 4096;
    other.setSegments(0x19, 0x21);
    other.eip = 0x400000;
    const v: VcpuContext = { domain: 1, cpu: t.cpu, baseMfn: 12, siblings: [t.cpu, other] };
    t.mem.write32(3 * 4096, 111);
    t.mem.write32(4 * 4096, 222);
    t.mem.write32(5 * 4096, 333);
    other.run(1);
    expect(other.regs[EAX]).toBe(111); // its TLB now holds 0x403000 -> frame 3
    expect(t.mm.updateVaMapping(0x403000, t.entry(4, P | U), UVMF_INVLPG, v)).toBe(0);
    other.run(1);
    expect(other.regs[EAX]).toBe(111); // a local flush left its entry stale, as on hardware
    expect(t.mm.updateVaMapping(0x403000, t.entry(5, P | U), UVMF_INVLPG | UVMF_ALL, v)).toBe(0);
    other.run(1);
    expect(other.regs[EAX]).toBe(333);
    // MMUEXT_INVLPG_ALL does the same for a mapping changed by mmu_update.
    other.eip = 0x400000;
    other.run(1);
    expect(t.mm.mmuUpdate(updateWords([t.update(10, 3, t.entry(4, P | U))]), v).rc).toBe(0);
    expect(t.mm.mmuextOp(extOpWords([{ cmd: MMUEXT.INVLPG_ALL, arg1: 0x403000, arg2: 0 }]), v).rc).toBe(0);
    other.run(1);
    expect(other.regs[EAX]).toBe(222);
    t.invariants();
  });

  it('switching page directories moves the reference; unpinning the one in CR3 keeps it valid', () => {
    const t = booted([0x90]);
    expect(t.mm.mmuextOp(extOpWords([{ cmd: MMUEXT.UNPIN_TABLE, arg1: 12, arg2: 0 }]), t.v).rc).toBe(0);
    expect([t.frames.type[12], t.frames.typeRefs[12]]).toEqual([PGT_L2, 1]); // CR3's reference
    t.invariants();
    t.write(13, 1, t.entry(10, P | RW | U));
    expect(t.mm.newBaseptr(13, t.v)).toBe(0);
    expect(t.cpu.cr3).toBe(13 * 4096);
    expect([t.frames.typeRefs[12], t.frames.typeRefs[13]]).toEqual([0, 1]);
    t.invariants();
    expect(t.mm.newBaseptr(10, t.v)).toBe(EINVAL); // an L1 cannot be a page directory
    expect(t.mm.newBaseptr(t.theirs[0], t.v)).toBe(EINVAL);
    t.invariants();
    expect(t.frames.type[10]).toBe(PGT_L1);
  });
});
