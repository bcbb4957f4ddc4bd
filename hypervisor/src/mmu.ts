// Memory as the CPU sees it: two-level 4 KiB paging walked from CR3 with U/S, R/W,
// CR0.WP and accessed/dirty bits, a direct-mapped software TLB, accesses by linear
// address, and the decoded-instruction cache by physical address (dropped exactly when
// a frame holding cached code is written). Breakpoints live here because the fetch
// path is where they are checked. The Cpu (cpu.ts) builds on it.

import { decode, MAX_INSTRUCTION_LENGTH } from '../../isa/src/index.js';
import { Alu } from './alu.js';
import { compile, type Insn } from './compile.js';
import { CpuFault, CR0_PE, CR0_WP, PFEC_P, PFV, PFEC_U, PFEC_W, PTE_A, PTE_D, PTE_P, PTE_U, PTE_W, UD } from './arch.js';
import { PAGE_MASK, PAGE_SHIFT, PhysicalMemory } from './memory.js';

const TLB_BITS = 8;
export const TLB_SIZE = 1 << TLB_BITS;
/**
 * TLB permission bits: user may read, user may write, supervisor may write; T_PD: the
 * page-table entry's dirty bit was set when the entry was filled. And two bits that only
 * say the frame needs no attention (an entry without them is still a hit, taken on the
 * slow path): T_D, a write needs no other work (dirty bit set, no cached code in the
 * frame, frame marked written since the last snapshot, not watched); T_R, a read needs
 * none (the frame is not watched).
 */
const T_UR = 1, T_UW = 2, T_SW = 4, T_D = 8, T_R = 16, T_PD = 32;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_SIZE_MINUS_4 = PAGE_SIZE - 4;

export class Mmu extends Alu {
  eip = 0;
  cpl = 0;
  cr0 = CR0_PE | CR0_WP;
  cr2 = 0;
  protected cr3v = 0;
  cr4 = 0;
  // Software TLB, direct-mapped by virtual page number.
  protected readonly tlbTag = new Int32Array(TLB_SIZE).fill(-1);
  /**
   * The lowest and highest frame the TLB has held since its last flush: a frame outside
   * them is in no entry, so a frame turning into code elsewhere costs this CPU nothing.
   */
  protected tlbLow = Infinity;
  protected tlbHigh = -1;
  protected readonly tlbFrame = new Int32Array(TLB_SIZE);
  protected readonly tlbPerm = new Uint8Array(TLB_SIZE);
  /** Permission bits a read / write needs at the current CPL. */
  protected readNeed = T_R;
  protected writeNeed = T_SW | T_D;
  /** Bytes the data access being translated touches (0: an instruction fetch, which watches ignore). */
  protected accessSize = 0;

  // Decoded instructions by physical frame (only frames that hold code), then by offset in the frame.
  protected readonly code = new Map<number, Insn[]>();
  /** The page instructions were last fetched from: virtual page number (-1: none) and its frame base. */
  protected fetchPage = -1;
  /**
   * Changes whenever cached code or the fetch translation may have changed (a write to a
   * code frame, a TLB flush, a CPL change, a breakpoint): links between instructions are
   * only followed while it stays the same.
   */
  codeGen = 0;
  protected fetchBase = 0;
  protected fetchHasBreakpoint = false;
  protected readonly breakpoints = new Set<number>();
  protected readonly breakpointPages = new Map<number, number>();
  protected readonly fetchBytes = new Uint8Array(MAX_INSTRUCTION_LENGTH);
  protected readonly mem8: Uint8Array;
  /** The same bytes as little-endian words, for aligned accesses (every host that runs this is little-endian). */
  protected readonly mem32: Int32Array;

  constructor(readonly mem: PhysicalMemory) {
    super();
    this.mem8 = mem.bytes;
    this.mem32 = new Int32Array(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.length >>> 2);
    mem.attach(this);
  }

  get cr3(): number {
    return this.cr3v;
  }
  set cr3(v: number) {
    this.cr3v = v >>> 0;
    this.flushTlb();
  }
  protected setCpl(cpl: number): void {
    this.cpl = cpl;
    this.readNeed = cpl === 3 ? T_UR | T_R : T_R;
    this.writeNeed = cpl === 3 ? T_UW | T_D : T_SW | T_D;
    this.forgetFetch();
  }
  addBreakpoint(linear: number): void {
    linear >>>= 0;
    if (this.breakpoints.has(linear)) return;
    this.breakpoints.add(linear);
    const page = linear >>> PAGE_SHIFT;
    this.breakpointPages.set(page, (this.breakpointPages.get(page) ?? 0) + 1);
    this.forgetFetch();
  }
  removeBreakpoint(linear: number): void {
    linear >>>= 0;
    if (!this.breakpoints.delete(linear)) return;
    const page = linear >>> PAGE_SHIFT;
    const n = (this.breakpointPages.get(page) ?? 1) - 1;
    if (n) this.breakpointPages.set(page, n);
    else this.breakpointPages.delete(page);
    this.forgetFetch();
  }
  hasBreakpoint(linear: number): boolean {
    return this.breakpoints.has(linear >>> 0);
  }
  clearBreakpoints(): void {
    this.breakpoints.clear();
    this.breakpointPages.clear();
    this.forgetFetch();
  }
  flushTlb(): void {
    this.tlbTag.fill(-1);
    this.tlbLow = Infinity;
    this.tlbHigh = -1;
    this.forgetFetch();
  }
  invalidatePage(linear: number): void {
    const vpn = linear >>> PAGE_SHIFT;
    const slot = vpn & (TLB_SIZE - 1);
    if (this.tlbTag[slot] === vpn) this.tlbTag[slot] = -1;
    this.forgetFetch();
  }
  /** Linear → physical for an access by the current CPL; raises #PF. */
  translate(linear: number, write: boolean): number {
    if (this.cr0 >= 0) return linear >>> 0; // CR0.PG (bit 31) clear
    const vpn = linear >>> PAGE_SHIFT;
    const slot = vpn & (TLB_SIZE - 1);
    if (this.tlbTag[slot] === vpn) {
      const need = write ? this.writeNeed : this.readNeed;
      const perm = this.tlbPerm[slot];
      if ((perm & need) === need) return ((this.tlbFrame[slot] << PAGE_SHIFT) | (linear & PAGE_MASK)) >>> 0;
      if (this.slowHit(perm, need, write)) return this.frameAccess(slot, linear, write);
    }
    return this.walk(linear >>> 0, write, this.cpl === 3);
  }
  /**
   * Whether an entry that lacks only T_D or T_R is a hit: it is, on hardware, as long as
   * the rights are there (and, for a write, the dirty bit is set: setting it needs a walk).
   * Using the entry rather than walking again keeps a stale entry's translation, as the
   * TLB would, whatever the debugger and snapshots do to these bits.
   */
  private slowHit(perm: number, need: number, write: boolean): boolean {
    const rights = need & ~(T_D | T_R);
    return (perm & rights) === rights && (!write || (perm & T_PD) !== 0);
  }
  /** A TLB hit that needed attention: the frame marked written, watches checked. */
  private frameAccess(slot: number, linear: number, write: boolean): number {
    const frame = this.tlbFrame[slot];
    const mem = this.mem;
    const pa = ((frame << PAGE_SHIFT) | (linear & PAGE_MASK)) >>> 0;
    if (write) {
      mem.markDirty(frame);
      if (!mem.codeFrame[frame] && !mem.watchFrame[frame]) this.tlbPerm[slot] |= T_D;
    }
    if (mem.watchFrame[frame] && this.accessSize > 0 && mem.checkWatch(pa, this.accessSize, write)) this.watchHit();
    return pa;
  }
  /**
   * Linear → physical for a supervisor access whatever the CPL (the hypervisor copying to
   * or from the guest, as Xen's copy_to/from_guest do): -1 where that faults, with CR2
   * left as it was.
   */
  supervisorTranslate(linear: number, write: boolean): number {
    if (this.cr0 >= 0) return linear >>> 0;
    const vpn = linear >>> PAGE_SHIFT;
    const slot = vpn & (TLB_SIZE - 1);
    // The hypervisor's own accesses are Xen's, not the guest's: no watch sees them here.
    this.accessSize = 0;
    if (this.tlbTag[slot] === vpn) {
      const need = write ? T_SW | T_D : 0;
      const perm = this.tlbPerm[slot];
      if ((perm & need) === need) return ((this.tlbFrame[slot] << PAGE_SHIFT) | (linear & PAGE_MASK)) >>> 0;
      if (this.slowHit(perm, need, write)) return this.frameAccess(slot, linear, write);
    }
    const cr2 = this.cr2;
    try {
      return this.walk(linear >>> 0, write, false);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.cr2 = cr2;
      return -1;
    }
  }
  /** Walks the page tables from CR3, setting accessed/dirty bits, and fills the TLB. */
  protected walk(linear: number, write: boolean, user: boolean): number {
    const mem = this.mem;
    const pdeAddr = ((this.cr3v & ~PAGE_MASK) + ((linear >>> 22) << 2)) >>> 0;
    const pde = mem.read32(pdeAddr);
    const code = (write ? PFEC_W : 0) | (user ? PFEC_U : 0);
    if (!(pde & PTE_P)) return this.pageFault(linear, code);
    const pteAddr = ((pde & ~PAGE_MASK) + (((linear >>> PAGE_SHIFT) & 0x3ff) << 2)) >>> 0;
    const pte = mem.read32(pteAddr);
    if (!(pte & PTE_P)) return this.pageFault(linear, code);
    const userOk = (pde & pte & PTE_U) !== 0;
    const writable = (pde & pte & PTE_W) !== 0;
    const wp = (this.cr0 & CR0_WP) !== 0;
    if (user && !userOk) return this.pageFault(linear, code | PFEC_P);
    if (write && !writable && (user || wp)) return this.pageFault(linear, code | PFEC_P);
    if (!(pde & PTE_A)) mem.updateEntry(pdeAddr, pde | PTE_A);
    const newPte = pte | PTE_A | (write ? PTE_D : 0);
    if (newPte !== pte) mem.updateEntry(pteAddr, newPte);
    const vpn = linear >>> PAGE_SHIFT;
    const slot = vpn & (TLB_SIZE - 1);
    this.tlbTag[slot] = vpn;
    const frame = pte >>> PAGE_SHIFT;
    this.tlbFrame[slot] = frame;
    if (frame < this.tlbLow) this.tlbLow = frame;
    if (frame > this.tlbHigh) this.tlbHigh = frame;
    if (write) this.mem.markDirty(frame);
    const watched = this.mem.watchFrame[frame] !== 0;
    const dirty = (newPte & PTE_D) !== 0;
    const plain = dirty && !this.mem.codeFrame[frame] && this.mem.dirty[frame] === 1 && !watched;
    this.tlbPerm[slot] = (userOk ? T_UR : 0) | (userOk && writable ? T_UW : 0) | (writable || !wp ? T_SW : 0) | (plain ? T_D : 0) | (watched ? 0 : T_R) | (dirty ? T_PD : 0);
    const pa = (((pte >>> PAGE_SHIFT) << PAGE_SHIFT) | (linear & PAGE_MASK)) >>> 0;
    if (watched && this.accessSize > 0 && this.mem.checkWatch(pa, this.accessSize, write)) this.watchHit();
    return pa;
  }
  protected pageFault(linear: number, code: number): never {
    this.cr2 = linear >>> 0;
    throw new CpuFault(PFV, code);
  }
  read8(lin: number): number {
    this.accessSize = 1;
    return this.mem8[this.translate(lin, false)] | 0;
  }
  read16(lin: number): number {
    if ((lin & PAGE_MASK) === PAGE_MASK) return this.read8(lin) | (this.read8(lin + 1) << 8);
    this.accessSize = 2;
    const p = this.translate(lin, false);
    const m = this.mem8;
    return (m[p] | (m[p + 1] << 8)) & 0xffff;
  }
  read32(lin: number): number {
    // The common case inline: paging on, a TLB hit, an aligned word.
    if (this.cr0 < 0 && (lin & 3) === 0) {
      const vpn = lin >>> PAGE_SHIFT;
      const slot = vpn & (TLB_SIZE - 1);
      if (this.tlbTag[slot] === vpn && (this.tlbPerm[slot] & this.readNeed) === this.readNeed) {
        return this.mem32[(this.tlbFrame[slot] << 10) | ((lin & PAGE_MASK) >>> 2)] >>> 0;
      }
    }
    return this.read32Slow(lin);
  }
  protected read32Slow(lin: number): number {
    if ((lin & PAGE_MASK) > PAGE_SIZE_MINUS_4) return (this.read16(lin) | (this.read16(lin + 2) << 16)) >>> 0;
    this.accessSize = 4;
    const p = this.translate(lin, false);
    if ((p & 3) === 0) return this.mem32[p >>> 2] >>> 0;
    const m = this.mem8;
    return (m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)) >>> 0;
  }
  /** The physical address an `n`-byte write (within a page) goes to; drops the decoded code it touches, if any. */
  protected writeTarget(lin: number, n: number): number {
    this.accessSize = n;
    const p = this.translate(lin, true);
    if (this.mem.codeFrame[p >>> PAGE_SHIFT]) this.mem.codeWrite(p, n);
    return p;
  }
  write8(lin: number, v: number): void {
    this.mem8[this.writeTarget(lin, 1)] = v;
  }
  write16(lin: number, v: number): void {
    if ((lin & PAGE_MASK) === PAGE_MASK) {
      this.checkWritable(lin + 1);
      this.write8(lin, v);
      this.write8(lin + 1, v >>> 8);
      return;
    }
    const p = this.writeTarget(lin, 2);
    const m = this.mem8;
    m[p] = v;
    m[p + 1] = v >>> 8;
  }
  write32(lin: number, v: number): void {
    // The common case inline: paging on, a TLB hit that needs no dirty bit and drops no code, aligned.
    if (this.cr0 < 0 && (lin & 3) === 0) {
      const vpn = lin >>> PAGE_SHIFT;
      const slot = vpn & (TLB_SIZE - 1);
      if (this.tlbTag[slot] === vpn && (this.tlbPerm[slot] & this.writeNeed) === this.writeNeed) {
        this.mem32[(this.tlbFrame[slot] << 10) | ((lin & PAGE_MASK) >>> 2)] = v;
        return;
      }
    }
    this.write32Slow(lin, v);
  }
  protected write32Slow(lin: number, v: number): void {
    if ((lin & PAGE_MASK) > PAGE_SIZE_MINUS_4) {
      // Both pages must be writable before either is written.
      this.checkWritable(lin + 3);
      this.write16(lin, v);
      this.write16(lin + 2, v >>> 16);
      return;
    }
    const p = this.writeTarget(lin, 4);
    if ((p & 3) === 0) {
      this.mem32[p >>> 2] = v;
      return;
    }
    const m = this.mem8;
    m[p] = v;
    m[p + 1] = v >>> 8;
    m[p + 2] = v >>> 16;
    m[p + 3] = v >>> 24;
  }
  protected checkWritable(lin: number): void {
    this.accessSize = 0; // a check, not the write (which comes next and is seen then)
    this.translate(lin, true);
  }
  /** Faults unless all four bytes at `lin` may be written (before a read-modify-write). */
  checkWritable32(lin: number): void {
    this.accessSize = 0;
    this.translate(lin, true);
    if ((lin & PAGE_MASK) > PAGE_SIZE_MINUS_4) this.translate(lin + 3, true);
  }
  protected readSize(lin: number, size: number): number {
    return size === 4 ? this.read32(lin) : size === 2 ? this.read16(lin) : this.read8(lin);
  }
  protected writeSize(lin: number, size: number, v: number): void {
    if (size === 4) this.write32(lin, v);
    else if (size === 2) this.write16(lin, v);
    else this.write8(lin, v);
  }
  dropCode(frame: number): void {
    if (this.code.delete(frame)) this.codeGen++;
  }
  frameBecameCode(frame: number): void {
    if (frame < this.tlbLow || frame > this.tlbHigh) return;
    for (let k = 0; k < TLB_SIZE; k++) if (this.tlbFrame[k] === frame) this.tlbPerm[k] &= ~T_D;
  }
  forgetWriteRights(): void {
    if (this.tlbHigh < 0) return;
    const watched = this.mem.watchFrame;
    for (let k = 0; k < TLB_SIZE; k++) this.tlbPerm[k] &= watched[this.tlbFrame[k]] ? ~(T_D | T_R) : ~T_D;
  }
  /** `frame` is watched now: every access to it takes the slow path, which checks the watches. */
  frameWatched(frame: number): void {
    if (frame < this.tlbLow || frame > this.tlbHigh) return;
    for (let k = 0; k < TLB_SIZE; k++) if (this.tlbFrame[k] === frame) this.tlbPerm[k] &= ~(T_D | T_R);
  }
  /** This CPU's access hit a watch (see PhysicalMemory.checkWatch): the Cpu stops after the instruction. */
  protected watchHit(): void {}
  protected forgetFetch(): void {
    this.fetchPage = -1;
    this.codeGen++;
  }
  /** Drops every decoded instruction (after a restore). */
  dropAllCode(): void {
    for (const frame of this.code.keys()) this.mem.codeWritten(frame);
    this.code.clear();
    this.forgetFetch();
  }
  protected fetch(): Insn {
    const eip = this.eip;
    const vpn = eip >>> PAGE_SHIFT;
    if (vpn !== this.fetchPage) {
      this.accessSize = 0;
      const base = this.translate(eip & ~PAGE_MASK, false);
      this.fetchPage = vpn;
      this.fetchBase = base;
      this.fetchHasBreakpoint = this.breakpointPages.has(vpn);
    }
    const pa = this.fetchBase + (eip & PAGE_MASK);
    const cached = this.code.get(pa >>> PAGE_SHIFT);
    if (cached !== undefined) {
      const insn = cached[pa & PAGE_MASK];
      if (insn !== undefined) return insn;
    }
    return this.decodeAt(eip, pa);
  }
  protected decodeAt(eip: number, pa: number): Insn {
    const buf = this.fetchBytes;
    const inPage = Math.min(MAX_INSTRUCTION_LENGTH, PAGE_SIZE - (eip & PAGE_MASK));
    for (let k = 0; k < inPage; k++) buf[k] = this.mem8[pa + k] | 0;
    let n = inPage;
    let r = decode(buf.subarray(0, n), 0, eip);
    if (!r.ok && r.reason === 'truncated' && n < MAX_INSTRUCTION_LENGTH) {
      // The instruction goes on in the next page: fetch from there too (it may fault).
      this.accessSize = 0;
      const next = this.translate((eip + n) >>> 0, false);
      for (let k = 0; n < MAX_INSTRUCTION_LENGTH; k++, n++) buf[n] = this.mem8[next + k] | 0;
      r = decode(buf, 0, eip);
    }
    if (!r.ok) throw new CpuFault(UD);
    const insn = compile(r.insn);
    if (insn.len <= inPage) {
      // Instructions that cross a page are decoded every time: their two halves may be
      // in unrelated frames, and only one frame's writes would drop them.
      const frame = pa >>> PAGE_SHIFT;
      if (frame < this.mem.frames) {
        let page = this.code.get(frame);
        if (page === undefined) this.code.set(frame, (page = new Array<Insn>(PAGE_SIZE)));
        page[pa & PAGE_MASK] = insn;
        // Writes to this frame, by any CPU, must now take the slow path, which drops its code.
        this.mem.codeCached(frame, pa & PAGE_MASK, insn.len);
      }
    }
    return insn;
  }
}
