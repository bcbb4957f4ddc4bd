// Per-frame bookkeeping of machine memory, as Xen's frame table keeps it: the owning
// domain, a general reference count, and a type (page table, page directory, descriptor
// page, writable page) with its own count, validation state and pin. Parallel typed
// arrays indexed by machine frame number, not an object per frame.

import { DOMID_XEN } from './abi.js';

/** Frame types (Xen's PGT_* values). */
export const PGT_NONE = 0, PGT_L1 = 1, PGT_L2 = 2, PGT_SEG_DESC = 5, PGT_WRITABLE = 7;

/** Owner of a frame nobody has. */
export const NO_OWNER = -1;

const F_PINNED = 1, F_VALIDATED = 2;

export class FrameTable {
  readonly owner: Int32Array;
  /** General references: mappings of the frame, uses as a table, the allocation itself. */
  readonly refs: Int32Array;
  readonly type: Uint8Array;
  /** References of the frame's current type. The type can only change while this is 0. */
  readonly typeRefs: Int32Array;
  private readonly flags: Uint8Array;
  /** The machine-to-physical table (M2P): each frame's pseudo-physical number in its domain. */
  readonly m2p: Int32Array;
  /** No frame below this one is free (allocation starts its search here). */
  private lowestFree = 0;

  /** `m2p`: where the machine-to-physical table lives (Xen keeps it in machine memory). */
  constructor(readonly count: number, m2p: Int32Array = new Int32Array(count)) {
    this.owner = new Int32Array(count).fill(NO_OWNER);
    this.refs = new Int32Array(count);
    this.type = new Uint8Array(count);
    this.typeRefs = new Int32Array(count);
    this.flags = new Uint8Array(count);
    this.m2p = m2p.fill(-1);
  }

  isPinned(mfn: number): boolean {
    return (this.flags[mfn] & F_PINNED) !== 0;
  }

  isValidated(mfn: number): boolean {
    return (this.flags[mfn] & F_VALIDATED) !== 0;
  }

  setPinned(mfn: number, on: boolean): void {
    this.flags[mfn] = on ? this.flags[mfn] | F_PINNED : this.flags[mfn] & ~F_PINNED;
  }

  setValidated(mfn: number, on: boolean): void {
    this.flags[mfn] = on ? this.flags[mfn] | F_VALIDATED : this.flags[mfn] & ~F_VALIDATED;
  }

  /** Gives `n` free frames to `domain`, lowest numbers first (deterministic); null if there are not enough. */
  allocate(domain: number, n: number): number[] | null {
    const out: number[] = [];
    for (let mfn = this.lowestFree; mfn < this.count && out.length < n; mfn++) if (this.owner[mfn] === NO_OWNER) out.push(mfn);
    if (out.length < n) return null;
    if (n > 0) this.lowestFree = out[n - 1] + 1; // every frame below is owned now
    for (const mfn of out) {
      this.owner[mfn] = domain;
      this.refs[mfn] = 1; // the allocation's own reference
      this.type[mfn] = PGT_NONE;
      this.typeRefs[mfn] = 0;
      this.flags[mfn] = 0;
    }
    return out;
  }

  /** Takes a frame back from its domain (it must hold no references but the allocation's). */
  free(mfn: number): void {
    this.owner[mfn] = NO_OWNER;
    this.lowestFree = Math.min(this.lowestFree, mfn);
    this.refs[mfn] = 0;
    this.type[mfn] = PGT_NONE;
    this.typeRefs[mfn] = 0;
    this.flags[mfn] = 0;
    this.m2p[mfn] = -1;
  }

  /** Frames of Xen itself (the M2P table, the hypervisor's page tables). */
  reserveForXen(mfns: readonly number[]): void {
    for (const mfn of mfns) {
      this.owner[mfn] = DOMID_XEN;
      this.refs[mfn] = 1;
    }
  }

  /** Whether `mfn` is a frame of `domain`. */
  owns(mfn: number, domain: number): boolean {
    return mfn >= 0 && mfn < this.count && this.owner[mfn] === domain;
  }

  /** Takes a general reference for `domain`; false when the frame is not that domain's. */
  getPage(mfn: number, domain: number): boolean {
    if (!this.owns(mfn, domain)) return false;
    this.refs[mfn]++;
    return true;
  }

  putPage(mfn: number): void {
    this.refs[mfn]--;
  }
}
