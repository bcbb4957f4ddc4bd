// The machine's past, for reverse debugging: snapshots taken as it runs, each holding the
// object state of the whole machine (snapshot.ts) and the memory frames written since the
// one before; any snapshot can be restored, and the machine, being deterministic, repeats
// from there what followed. Memory grows with what the guests write between snapshots,
// not with the machine's size (one full copy is kept, at the first snapshot).

import { PAGE_SHIFT, PAGE_SIZE } from '../memory.js';
import { ObjectSaver, type ObjectSnapshot } from '../snapshot.js';
import type { Vcpu } from './vcpu.js';
import type { Xen } from './xen.js';

export interface SnapshotInfo {
  /** The machine's clock when it was taken. */
  readonly now: number;
  /** Instructions each vCPU had retired. */
  readonly retired: ReadonlyMap<Vcpu, number>;
}

interface Snapshot extends SnapshotInfo {
  readonly objects: ObjectSnapshot;
  /** The frames stored with this snapshot (written since the previous one). */
  readonly frames: readonly number[];
  readonly bytes: number;
}

/** A frame's contents as of a snapshot. */
interface Version {
  readonly at: number;
  readonly data: Uint8Array;
}

export class History {
  private readonly saver: ObjectSaver;
  private readonly snaps: Snapshot[] = [];
  /** Memory at the first snapshot. */
  private base: Uint8Array | null = null;
  /** Per frame, its later versions in snapshot order. */
  private readonly versions = new Map<number, Version[]>();
  /** Frames written without telling memory (the M2P table, written by Xen as an array): compared, not tracked. */
  private readonly untracked: number[];

  /** `roots`: what else belongs to the machine (dom0's backends, reached otherwise only through closures). */
  constructor(private readonly xen: Xen, private readonly roots: readonly object[] = []) {
    this.saver = new ObjectSaver(xen.mem.bytes.buffer);
    const m2p = xen.frames.m2p;
    const first = m2p.byteOffset >>> PAGE_SHIFT;
    const last = (m2p.byteOffset + m2p.byteLength - 1) >>> PAGE_SHIFT;
    this.untracked = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  }

  get length(): number {
    return this.snaps.length;
  }

  info(i: number): SnapshotInfo {
    return this.snaps[i];
  }

  /** Bytes held by snapshots: the base copy, frame versions and saved typed arrays. */
  get bytes(): number {
    return (this.base?.length ?? 0) + this.snaps.reduce((a, s) => a + s.bytes, 0);
  }

  /** Bytes of the full copy of memory made at the first snapshot. */
  get baseBytes(): number {
    return this.base?.length ?? 0;
  }

  /** Records the machine as it is now; returns the snapshot's index. */
  take(): number {
    const { xen } = this;
    const mem = xen.mem;
    const at = this.snaps.length;
    let frames: number[] = [];
    let bytes = 0;
    if (this.base === null) {
      this.base = mem.bytes.slice();
      mem.takeDirty();
    } else {
      frames = mem.takeDirty();
      for (const f of this.untracked) if (!frames.includes(f) && !sameFrame(this.frameAt(f, at - 1), mem.bytes, f)) frames.push(f);
      for (const f of frames) {
        const data = mem.bytes.slice(f << PAGE_SHIFT, (f + 1) << PAGE_SHIFT);
        let list = this.versions.get(f);
        if (list === undefined) this.versions.set(f, (list = []));
        list.push({ at, data });
      }
      bytes = frames.length * PAGE_SIZE;
    }
    const objects = this.saver.save([xen, ...this.roots]);
    const retired = new Map<Vcpu, number>();
    for (const d of xen.domains.values()) for (const v of d.vcpus) retired.set(v, v.cpu.instructions);
    this.snaps.push({ now: xen.now, retired, objects, frames, bytes: bytes + objects.typedBytes + objects.objects * 64 });
    return at;
  }

  /**
   * Puts the machine back as it was at snapshot `i`. Later snapshots stay: the machine is
   * deterministic, so running on as before passes through them again (truncate() them
   * when it will not).
   */
  restore(i: number): void {
    if (!(i >= 0 && i < this.snaps.length)) throw new RangeError(`no snapshot ${i}`);
    const mem = this.xen.mem;
    // What may differ from snapshot i: frames written since the last take or restore, and
    // frames any later snapshot stored (the machine may be anywhere after i).
    const changed = new Set<number>(mem.takeDirty());
    for (const f of this.untracked) changed.add(f);
    for (let k = i + 1; k < this.snaps.length; k++) for (const f of this.snaps[k].frames) changed.add(f);
    // load() drops decoded code the old bytes replace, on every CPU.
    for (const f of changed) mem.load(f << PAGE_SHIFT, this.frameAt(f, i));
    this.saver.restore(this.snaps[i].objects);
    mem.takeDirty(); // memory is snapshot i's now: nothing written since
  }

  /** Drops the snapshots after `i` (the machine will not pass through them again). */
  truncate(i: number): void {
    for (let k = i + 1; k < this.snaps.length; k++) {
      for (const f of this.snaps[k].frames) {
        const list = this.versions.get(f)!;
        while (list.length > 0 && list[list.length - 1].at > i) list.pop();
      }
    }
    this.snaps.length = Math.min(this.snaps.length, i + 1);
  }

  /** Frame `f` as of snapshot `i`. */
  private frameAt(f: number, i: number): Uint8Array {
    const list = this.versions.get(f);
    if (list !== undefined) {
      for (let k = list.length - 1; k >= 0; k--) if (list[k].at <= i) return list[k].data;
    }
    return this.base!.subarray(f << PAGE_SHIFT, (f + 1) << PAGE_SHIFT);
  }
}

function sameFrame(a: Uint8Array, mem: Uint8Array, f: number): boolean {
  const off = f << PAGE_SHIFT;
  for (let i = 0; i < PAGE_SIZE; i++) if (a[i] !== mem[off + i]) return false;
  return true;
}
