// Validated page tables, as Xen's mm.c keeps them (non-PAE two-level, x86_32 PV):
// type references with validation on first use, the rules for each page-table entry a
// guest may install, and the mmu_update / mmuext_op / update_va_mapping operations.
// Every refusal returns Xen's errno (negative, as the guest sees it in EAX).

import type { Cpu } from '../cpu.js';
import type { PhysicalMemory } from '../memory.js';
import {
  EBUSY, EINVAL, ENOSYS, EPERM, HYPERVISOR_L2_SLOT, HYPERVISOR_VIRT_START, k,
  PAGE_ACCESSED, PAGE_DIRTY, PAGE_GLOBAL, PAGE_PRESENT, PAGE_PSE, PAGE_RW,
} from './abi.js';
import { checkDescriptor } from './descriptors.js';
import { FrameTable, PGT_L1, PGT_L2, PGT_NONE, PGT_SEG_DESC, PGT_WRITABLE } from './frames.js';

const ENTRIES = 1024;
/** Entry bits a guest may not set: global and PAT in page tables, global and 4 MiB pages in
 *  page directories (the 2-level ABI's rules, as Xen 1.0 had them). */
const L1_DISALLOW = PAGE_GLOBAL | 0x80;
const L2_DISALLOW = PAGE_GLOBAL | PAGE_PSE;
/** Bits that may change without re-checking the entry (same frame, same rights). */
const L1_FAST_BITS = PAGE_ACCESSED | PAGE_DIRTY;
/** updateOne's result for a page-directory entry changed (the TLBs must be flushed). */
const DIRECTORY_CHANGED = 1;

export const MMU_NORMAL_PT_UPDATE = k('MMU_NORMAL_PT_UPDATE');
export const MMU_MACHPHYS_UPDATE = k('MMU_MACHPHYS_UPDATE');
export const MMU_PT_UPDATE_PRESERVE_AD = k('MMU_PT_UPDATE_PRESERVE_AD');
export const MMU_PT_UPDATE_NO_TRANSLATE = k('MMU_PT_UPDATE_NO_TRANSLATE');
export const MMUEXT = {
  PIN_L1_TABLE: k('MMUEXT_PIN_L1_TABLE'),
  PIN_L2_TABLE: k('MMUEXT_PIN_L2_TABLE'),
  PIN_L3_TABLE: k('MMUEXT_PIN_L3_TABLE'),
  PIN_L4_TABLE: k('MMUEXT_PIN_L4_TABLE'),
  UNPIN_TABLE: k('MMUEXT_UNPIN_TABLE'),
  NEW_BASEPTR: k('MMUEXT_NEW_BASEPTR'),
  TLB_FLUSH_LOCAL: k('MMUEXT_TLB_FLUSH_LOCAL'),
  INVLPG_LOCAL: k('MMUEXT_INVLPG_LOCAL'),
  TLB_FLUSH_MULTI: k('MMUEXT_TLB_FLUSH_MULTI'),
  INVLPG_MULTI: k('MMUEXT_INVLPG_MULTI'),
  TLB_FLUSH_ALL: k('MMUEXT_TLB_FLUSH_ALL'),
  INVLPG_ALL: k('MMUEXT_INVLPG_ALL'),
  SET_LDT: k('MMUEXT_SET_LDT'),
} as const;
export const UVMF_TLB_FLUSH = k('UVMF_TLB_FLUSH');
export const UVMF_INVLPG = k('UVMF_INVLPG');
export const UVMF_ALL = k('UVMF_ALL');
export const UVMF_FLUSHTYPE_MASK = k('UVMF_FLUSHTYPE_MASK');

export interface MmuUpdate {
  /** Machine address of the entry, with the command in its low 2 bits. */
  ptr: number;
  val: number;
}

export interface MmuextOp {
  cmd: number;
  arg1: number;
  arg2: number;
}

/** 32-bit words of one mmu_update request as the guest lays it out: 64-bit ptr, 64-bit val. */
export const UPDATE_WORDS = 4;
/** 32-bit words of one mmuext_op request: cmd, arg1, arg2 (x86_32). */
export const EXTOP_WORDS = 3;

/** Requests given as a list (the domain builder, tests), in the guest's layout. */
export function updateWords(list: readonly MmuUpdate[]): Int32Array {
  const w = new Int32Array(list.length * UPDATE_WORDS);
  list.forEach((r, i) => {
    w[i * UPDATE_WORDS] = r.ptr;
    w[i * UPDATE_WORDS + 2] = r.val;
  });
  return w;
}

export function extOpWords(list: readonly MmuextOp[]): Int32Array {
  const w = new Int32Array(list.length * EXTOP_WORDS);
  list.forEach((op, i) => w.set([op.cmd, op.arg1, op.arg2], i * EXTOP_WORDS));
  return w;
}

/**
 * How many requests come before the first with a high half set (which fails). Checked
 * ahead, in a loop of its own, because that is faster than a check in each request's.
 */
function lowHalvesOnly(reqs: Int32Array, count: number): number {
  let n = 0;
  for (let at = 1; n < count && (reqs[at] | reqs[at + 2]) === 0; n++, at += Imm.Words);
  return n;
}

/** Result of a batch: the first error (or 0) and how many requests succeeded before it. */
export interface BatchResult {
  rc: number;
  done: number;
}

/** The vCPU a memory operation acts for: its CPU (TLB, CR3) and its domain. */
export interface VcpuContext {
  domain: number;
  cpu: Cpu;
  /** The frame of the page directory in CR3, or -1 (it holds a PGT_L2 type reference). */
  baseMfn: number;
  /** The CPUs of all its domain's vCPUs (itself included): what an ALL or MULTI flush reaches. */
  siblings: readonly Cpu[];
}

/**
 * The values l1Run tests, as immediates: once bundled, module constants are mutable slots,
 * loaded at every use (they took a third of that loop's time). Checked against the ABI
 * when the module loads.
 */
const enum Imm {
  Present = 1, Rw = 2, FastBits = 0x60, L1Disallow = 0x180,
  Machphys = 1, PreserveAD = 2, Words = 4, L1 = 1, Writable = 7,
}
if (
  Imm.Present !== PAGE_PRESENT || Imm.Rw !== PAGE_RW || Imm.FastBits !== L1_FAST_BITS || Imm.L1Disallow !== L1_DISALLOW ||
  Imm.Machphys !== MMU_MACHPHYS_UPDATE || Imm.PreserveAD !== MMU_PT_UPDATE_PRESERVE_AD || Imm.Words !== UPDATE_WORDS ||
  Imm.L1 !== PGT_L1 || Imm.Writable !== PGT_WRITABLE
) throw new Error('mm.ts: Imm is out of step with the ABI');

export class MemoryManager {
  /** Page-directory entries Xen puts in the hole slots of every validated page directory. */
  readonly xenL2Entries = new Uint32Array(ENTRIES - HYPERVISOR_L2_SLOT);
  /** Page-table entries that map a grant (machine address of the entry → the granted frame):
   *  only unmap_grant_ref may change them. */
  readonly grantPtes = new Map<number, number>();

  constructor(readonly mem: PhysicalMemory, readonly frames: FrameTable) {}

  private entry(mfn: number, index: number): number {
    return this.mem.read32(mfn * 4096 + index * 4);
  }

  // ---- Type references --------------------------------------------------------------------

  /**
   * Takes a reference of `type` on a frame of `domain` (it must hold a general reference
   * already). The 0 → 1 transition may change the type and validates page tables.
   */
  getPageType(mfn: number, type: number, domain: number): number {
    const f = this.frames;
    if (f.typeRefs[mfn] === 0) {
      if (f.type[mfn] !== type) {
        f.type[mfn] = type;
        f.setValidated(mfn, false);
      }
    } else if (f.type[mfn] !== type) {
      return EINVAL; // in use as another type
    }
    // Counted before validating, so that an entry of the table itself cannot take the
    // frame as another type (a page table mapping itself writable).
    f.typeRefs[mfn]++;
    if (!f.isValidated(mfn)) {
      const rc = type === PGT_L1 ? this.promoteL1(mfn, domain) : type === PGT_L2 ? this.promoteL2(mfn, domain) : type === PGT_SEG_DESC ? this.promoteSegDesc(mfn) : 0;
      if (rc !== 0) {
        f.typeRefs[mfn]--;
        f.type[mfn] = PGT_NONE;
        return rc;
      }
      f.setValidated(mfn, true);
    }
    return 0;
  }

  /** Whether `frame` may be written as data: it can take the writable type (not a page table or descriptor page). */
  mayWriteData(frame: number): boolean {
    if (this.getPageType(frame, PGT_WRITABLE, this.frames.owner[frame]) !== 0) return false;
    this.putPageType(frame);
    return true;
  }

  /** Writes `data` at `offset` in `frame` under a writable type reference, as Xen's copies do; false (nothing written) where it may not. */
  writeData(frame: number, offset: number, data: Uint8Array): boolean {
    if (this.getPageType(frame, PGT_WRITABLE, this.frames.owner[frame]) !== 0) return false;
    this.mem.load(frame * 4096 + offset, data);
    this.putPageType(frame);
    return true;
  }

  /** Drops a type reference and the general one with it (Xen's put_page_and_type). */
  putPageAndType(mfn: number): void {
    this.putPageType(mfn);
    this.frames.putPage(mfn);
  }

  /** Drops a type reference; the last one of a page table releases what its entries hold. */
  putPageType(mfn: number): void {
    const f = this.frames;
    if (--f.typeRefs[mfn] > 0) return;
    const type = f.type[mfn];
    if (type === PGT_L1 || type === PGT_L2) {
      if (type === PGT_L1) for (let i = 0; i < ENTRIES; i++) this.putPageFromL1e(this.entry(mfn, i));
      else for (let i = 0; i < HYPERVISOR_L2_SLOT; i++) this.putPageFromL2e(this.entry(mfn, i));
      f.setValidated(mfn, false);
    }
  }

  private promoteL1(mfn: number, domain: number): number {
    for (let i = 0; i < ENTRIES; i++) {
      const rc = this.getPageFromL1e(this.entry(mfn, i), domain);
      if (rc !== 0) {
        for (let j = 0; j < i; j++) this.putPageFromL1e(this.entry(mfn, j));
        return rc;
      }
    }
    return 0;
  }

  private promoteL2(mfn: number, domain: number): number {
    for (let i = 0; i < HYPERVISOR_L2_SLOT; i++) {
      const rc = this.getPageFromL2e(this.entry(mfn, i), domain, mfn);
      if (rc !== 0) {
        for (let j = 0; j < i; j++) this.putPageFromL2e(this.entry(mfn, j));
        return rc;
      }
    }
    // Xen's own mappings fill the hole, whatever the guest wrote there.
    for (let i = HYPERVISOR_L2_SLOT; i < ENTRIES; i++) this.mem.write32(mfn * 4096 + i * 4, this.xenL2Entries[i - HYPERVISOR_L2_SLOT]);
    return 0;
  }

  /** Every descriptor of the page must pass Xen's check (DPL 0 is raised to 1 in place). */
  private promoteSegDesc(mfn: number): number {
    const fixed: [number, number, number][] = [];
    for (let i = 0; i < 512; i++) {
      const lo = this.entry(mfn, 2 * i), hi = this.entry(mfn, 2 * i + 1);
      const ok = checkDescriptor(lo, hi);
      if (!ok) return EINVAL;
      if (ok.hi !== hi) fixed.push([i, ok.lo, ok.hi]);
    }
    for (const [i, lo, hi] of fixed) {
      this.mem.write32(mfn * 4096 + 8 * i, lo);
      this.mem.write32(mfn * 4096 + 8 * i + 4, hi);
    }
    return 0;
  }

  // ---- Entries ----------------------------------------------------------------------------

  /** The references a present page-table entry holds: its frame, and a writable type if RW. */
  getPageFromL1e(pte: number, domain: number): number {
    if (!(pte & PAGE_PRESENT)) return 0;
    if (pte & L1_DISALLOW) return EINVAL;
    const target = pte >>> 12;
    if (target >= this.frames.count) return EPERM; // not RAM: I/O memory needs a permission guests lack
    if (!this.frames.getPage(target, domain)) return EBUSY; // another domain's frame
    if (pte & PAGE_RW) {
      const rc = this.getPageType(target, PGT_WRITABLE, domain);
      if (rc !== 0) {
        this.frames.putPage(target);
        return EBUSY; // a writable mapping of a page table or descriptor page
      }
    }
    return 0;
  }

  putPageFromL1e(pte: number): void {
    if (!(pte & PAGE_PRESENT)) return;
    const target = pte >>> 12;
    if (target >= this.frames.count) return;
    if (pte & PAGE_RW) this.putPageType(target);
    this.frames.putPage(target);
  }

  /** A present page-directory entry holds its frame as a (validated) page table. */
  getPageFromL2e(pde: number, domain: number, self = -1): number {
    if (!(pde & PAGE_PRESENT)) return 0;
    if (pde & L2_DISALLOW) return EINVAL;
    const target = pde >>> 12;
    if (target === self) return EINVAL; // no linear (self-mapping) page tables
    if (!this.frames.getPage(target, domain)) return EINVAL;
    const rc = this.getPageType(target, PGT_L1, domain);
    if (rc !== 0) {
      this.frames.putPage(target);
      return rc;
    }
    return 0;
  }

  putPageFromL2e(pde: number): void {
    if (!(pde & PAGE_PRESENT)) return;
    this.putPageAndType(pde >>> 12);
  }

  /** Replaces an entry of a page table (machine address `pa`), keeping the counts right. */
  modL1Entry(pa: number, val: number, domain: number, preserveAD: boolean): number {
    // Xen would crash the domain: an implicit unmap of a grant. (Most domains have no grant
    // mappings, and a map lookup is a good part of the cost of an entry in a batch.)
    if (this.grantPtes.size !== 0 && this.grantPtes.has(pa)) return EINVAL;
    const old = this.mem.read32(pa);
    if (preserveAD) val = (val | (old & (PAGE_ACCESSED | PAGE_DIRTY))) >>> 0;
    if (val & PAGE_PRESENT && old & PAGE_PRESENT && ((old ^ val) & ~L1_FAST_BITS) === 0) {
      this.mem.write32(pa, val);
      return 0;
    }
    const rc = this.getPageFromL1e(val, domain);
    if (rc !== 0) return rc;
    this.mem.write32(pa, val);
    this.putPageFromL1e(old);
    return 0;
  }

  modL2Entry(pa: number, val: number, domain: number): number {
    const index = (pa & 0xfff) >>> 2;
    if (index >= HYPERVISOR_L2_SLOT) return EINVAL; // the hole is Xen's
    const old = this.mem.read32(pa);
    const rc = this.getPageFromL2e(val, domain, pa >>> 12);
    if (rc !== 0) return rc;
    this.mem.write32(pa, val);
    this.putPageFromL2e(old);
    return 0;
  }

  // ---- Hypercalls -------------------------------------------------------------------------

  /**
   * mmu_update for `domain`: each request in order; the first failure stops the batch.
   * L1 changes flush nothing (the guest must); L2 changes flush the vCPU's TLB. Runs of
   * page-table entry updates go through l1Run; every other request, and any it declines
   * or that fails, through updateOne.
   */
  mmuUpdate(reqs: Int32Array, v: VcpuContext, count = reqs.length / UPDATE_WORDS): BatchResult {
    let flush = false;
    let done = 0;
    let rc = 0;
    const wellFormed = lowHalvesOnly(reqs, count);
    while (done < count) {
      done = this.l1Run(reqs, done, wellFormed, v.domain);
      if (done === count) break;
      const at = done * UPDATE_WORDS;
      rc = this.updateOne(reqs[at], reqs[at + 1], reqs[at + 2], reqs[at + 3], v.domain);
      if (rc < 0) break;
      if (rc === DIRECTORY_CHANGED) {
        flush = true;
        rc = 0;
      }
      done++;
    }
    if (flush) for (const c of v.siblings) c.flushTlb(); // a directory may be in several vCPUs' CR3
    return { rc, done };
  }

  /**
   * One mmu_update request, every check made: 0, DIRECTORY_CHANGED (an L2 entry changed)
   * or Xen's errno. `ptr` and `val` are the low halves of the 64-bit fields, `ptrHi` and
   * `valHi` the high ones.
   */
  private updateOne(ptr: number, ptrHi: number, val: number, valHi: number, domain: number): number {
    // 64-bit fields; a non-PAE machine address fits in the low half.
    if (ptrHi !== 0 || valHi !== 0) return EINVAL;
    const f = this.frames;
    const cmd = ptr & 3;
    const pa = (ptr & ~3) >>> 0;
    const mfn = pa >>> 12;
    val >>>= 0;
    // The command is two bits: every value is one of the four.
    if (cmd === MMU_MACHPHYS_UPDATE) {
      if (!f.owns(mfn, domain)) return EINVAL;
      f.m2p[mfn] = val | 0;
      return 0;
    }
    // Xen holds a reference on the table for the request's length; with one request
    // at a time on one CPU, nothing can observe it, so only the ownership is checked.
    if (!f.owns(mfn, domain)) return EINVAL; // not a frame of this domain
    const type = f.typeRefs[mfn] > 0 ? f.type[mfn] : PGT_NONE;
    if (type === PGT_L1) return this.modL1Entry(pa, val, domain, cmd === MMU_PT_UPDATE_PRESERVE_AD);
    if (type === PGT_L2) return this.modL2Entry(pa, val, domain) || DIRECTORY_CHANGED;
    if (type === PGT_SEG_DESC) return EINVAL;
    // An ordinary page (in use as one, or not in use): a plain write under a writable type reference.
    const rc = this.getPageType(mfn, PGT_WRITABLE, domain);
    if (rc !== 0) return rc;
    this.mem.write32(pa, val);
    this.putPageType(mfn);
    return 0;
  }

  /**
   * Applies requests from `from` up to `end` (none of them with a high half set) as long
   * as each is a page-table entry update (not MACHPHYS) that succeeds, in an L1 of
   * `domain` whose frame needs no care on a write: it holds no decoded code, no watch
   * covers it and it is marked dirty already; and no entry maps a grant. Returns the index
   * of the first request it did not apply (`end`, or one for updateOne, which reports a
   * failure with its errno).
   *
   * The same checks as modL1Entry, with the frame table and memory in locals (a writable
   * type is taken before the general reference, not after: neither step reads what the
   * other changes, and a refused type changes nothing). The table's own checks are made
   * once per run of requests on it, because applying an L1 entry cannot change them (the
   * table's type is held, no entry may map it writable, only its own words are written,
   * grants are untouched). Any other request (an L2 entry may drop an L1's last type
   * reference) ends the call.
   */
  private l1Run(reqs: Int32Array, from: number, end: number, domain: number): number {
    if (this.grantPtes.size !== 0) return from;
    const f = this.frames, mem = this.mem;
    const owner = f.owner, refs = f.refs, frameType = f.type, typeRefs = f.typeRefs;
    const words = mem.words, code = mem.codeFrame, dirty = mem.dirty, watched = mem.watchFrame;
    // Integers the optimizer can keep untagged in registers.
    const dom = domain | 0, frames = f.count | 0, tables = Math.min(frames, mem.frames) | 0, stop = end * Imm.Words;
    let table = -1;
    let at = from * Imm.Words;
    for (; at < stop; at += Imm.Words) {
      const ptr = reqs[at];
      if ((ptr & 3) === Imm.Machphys) break;
      const mfn = ptr >>> 12;
      if (mfn !== table) {
        if (!(mfn < tables && owner[mfn] === dom && typeRefs[mfn] > 0 && frameType[mfn] === Imm.L1)) break;
        if (code[mfn] !== 0 || dirty[mfn] === 0 || watched[mfn] !== 0) break;
        table = mfn;
      }
      const w = ptr >>> 2;
      const old = words[w];
      let val = reqs[at + 2];
      if ((ptr & 3) === Imm.PreserveAD) val |= old & Imm.FastBits;
      if ((val & old & Imm.Present) !== 0 && ((old ^ val) & ~Imm.FastBits) === 0) {
        words[w] = val;
        continue;
      }
      // getPageFromL1e(val): the new frame's references
      if (val & Imm.Present) {
        const target = val >>> 12;
        if (val & Imm.L1Disallow || target >= frames || owner[target] !== dom) break;
        if (val & Imm.Rw && this.getPageType(target, Imm.Writable, dom) !== 0) break;
        refs[target]++;
      }
      words[w] = val;
      // putPageFromL1e(old): the old frame's
      if (old & Imm.Present && old >>> 12 < frames) {
        if (old & Imm.Rw) this.putPageType(old >>> 12);
        refs[old >>> 12]--;
      }
    }
    return at / Imm.Words;
  }

  /** mmuext_op for one vCPU's domain: in order, the first failure stops the batch. */
  mmuextOp(ops: Int32Array, v: VcpuContext, count = ops.length / EXTOP_WORDS): BatchResult {
    let done = 0;
    let rc = 0;
    for (let at = 0; done < count; done++, at += EXTOP_WORDS) {
      rc = this.mmuextOne(ops[at] >>> 0, ops[at + 1] >>> 0, ops[at + 2] >>> 0, v);
      if (rc !== 0) break;
    }
    return { rc, done };
  }

  private mmuextOne(cmd: number, arg1: number, arg2: number, v: VcpuContext): number {
    const f = this.frames;
    switch (cmd) {
      case MMUEXT.PIN_L1_TABLE: case MMUEXT.PIN_L2_TABLE: {
        const mfn = arg1;
        if (!f.getPage(mfn, v.domain)) return EINVAL;
        if (f.isPinned(mfn)) {
          f.putPage(mfn);
          return EINVAL;
        }
        const rc = this.getPageType(mfn, cmd === MMUEXT.PIN_L1_TABLE ? PGT_L1 : PGT_L2, v.domain);
        if (rc !== 0) {
          f.putPage(mfn);
          return rc;
        }
        f.setPinned(mfn, true);
        return 0;
      }
      // Xen ignores pins of levels its paging does not have (two levels here): no check, no pin
      case MMUEXT.PIN_L3_TABLE: case MMUEXT.PIN_L4_TABLE:
        return 0;
      case MMUEXT.UNPIN_TABLE: {
        const mfn = arg1;
        if (!(mfn < f.count) || f.owner[mfn] !== v.domain || !f.isPinned(mfn)) return EINVAL;
        f.setPinned(mfn, false);
        this.putPageAndType(mfn);
        return 0;
      }
      case MMUEXT.NEW_BASEPTR: return this.newBaseptr(arg1, v);
      case MMUEXT.TLB_FLUSH_LOCAL:
        v.cpu.flushTlb();
        return 0;
      case MMUEXT.INVLPG_LOCAL:
        v.cpu.invalidatePage(arg1);
        return 0;
      // A MULTI flush reaches every vCPU, not just those in its bitmap: flushing more is always safe.
      case MMUEXT.TLB_FLUSH_MULTI: case MMUEXT.TLB_FLUSH_ALL:
        for (const c of v.siblings) c.flushTlb();
        return 0;
      case MMUEXT.INVLPG_MULTI: case MMUEXT.INVLPG_ALL:
        for (const c of v.siblings) c.invalidatePage(arg1);
        return 0;
      case MMUEXT.SET_LDT: {
        // Xen's checks; the LDT's pages would be typed when first used, and the CPU's
        // segments are flat, so nothing more is kept.
        const base = arg1, entries = arg2;
        if (base & 0xfff || entries > 8192 || base + entries * 8 > HYPERVISOR_VIRT_START) return EINVAL;
        return 0;
      }
      default:
        return ENOSYS;
    }
  }

  /** Switches the vCPU's page directory: a PGT_L2 reference on the new one, the old one's dropped. */
  newBaseptr(mfn: number, v: VcpuContext): number {
    const f = this.frames;
    if (!f.getPage(mfn, v.domain)) return EINVAL;
    const rc = this.getPageType(mfn, PGT_L2, v.domain);
    if (rc !== 0) {
      f.putPage(mfn);
      return rc;
    }
    const old = v.baseMfn;
    v.baseMfn = mfn;
    v.cpu.cr3 = mfn * 4096;
    if (old >= 0) this.putPageAndType(old);
    return 0;
  }

  /**
   * update_va_mapping: replaces the page-table entry that maps `va` in the current page
   * directory, then flushes as `flags` say.
   */
  updateVaMapping(va: number, val: number, flags: number, v: VcpuContext): number {
    va >>>= 0;
    if (va >= HYPERVISOR_VIRT_START || v.baseMfn < 0) return EINVAL;
    const pde = this.entry(v.baseMfn, va >>> 22);
    if (!(pde & PAGE_PRESENT)) return EINVAL;
    const l1 = pde >>> 12;
    if (this.frames.type[l1] !== PGT_L1 || this.frames.typeRefs[l1] === 0) return EINVAL;
    const rc = this.modL1Entry(l1 * 4096 + ((va >>> 12) & 0x3ff) * 4, val >>> 0, v.domain, false);
    if (rc !== 0) return rc;
    const flush = flags & UVMF_FLUSHTYPE_MASK;
    // Above the flush type: UVMF_ALL, or a bitmap pointer (MULTI, flushed everywhere too), or 0 (LOCAL).
    const cpus = flags & ~UVMF_FLUSHTYPE_MASK ? v.siblings : [v.cpu];
    for (const c of cpus) {
      if (flush === UVMF_TLB_FLUSH) c.flushTlb();
      else if (flush === UVMF_INVLPG) c.invalidatePage(va);
    }
    return 0;
  }
}
