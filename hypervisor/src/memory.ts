// Machine memory: 4 KiB frames in one byte array, indexed by physical address. Every
// write from outside a CPU goes through here so that cached decoded code of a written
// frame is dropped (the CPUs' own stores check the same per-frame flag inline). Several
// CPUs (one per vCPU) share the memory: each keeps its own decoded code, and all of
// them hear when a frame becomes code and when code is written. A write to a code frame
// drops its code only if it touches bytes some instruction was decoded from: data next
// to code (a variable in .text, a stack in the same page) keeps the code decoded, though
// its stores still take the CPUs' slow write path.

import { SNAPSHOT, type SavesItself } from './snapshot.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SIZE - 1;

/** What a CPU does about the code it cached (see Mmu). */
export interface CodeCacheHolder {
  /** Drops the instructions decoded from `frame`. */
  dropCode(frame: number): void;
  /** `frame` now holds cached code: writes to it must no longer take a fast path. */
  frameBecameCode(frame: number): void;
  /** Every frame is clean again: no write may take a fast path until it has marked its frame dirty. */
  forgetWriteRights(): void;
  /** `frame` is watched: no access to it may take a fast path. */
  frameWatched(frame: number): void;
  /** Drops every decoded instruction. */
  dropAllCode(): void;
}

/** A debugger's data breakpoint: machine addresses [start, start + length), on reads, writes or both. */
export interface Watch {
  readonly id: number;
  readonly start: number;
  readonly length: number;
  readonly read: boolean;
  readonly write: boolean;
}

/** An access a watch saw. */
export interface WatchHit {
  readonly watch: Watch;
  /** The access: machine address, bytes, and whether it wrote. */
  readonly address: number;
  readonly size: number;
  readonly write: boolean;
  /** Made by a vCPU's instruction, or by Xen or dom0 (a hypercall's copy, a backend's response). */
  readonly by: 'guest' | 'host';
}

export class PhysicalMemory implements SavesItself {
  readonly bytes: Uint8Array;
  /** The same bytes as little-endian words, for aligned accesses. */
  readonly words: Int32Array;
  readonly frames: number;
  /** Per frame: 1 when some CPU holds decoded instructions from it. */
  readonly codeFrame: Uint8Array;
  /** The CPUs sharing this memory. */
  private readonly caches: CodeCacheHolder[] = [];
  /** Per code frame, 1 for each byte some CPU decoded an instruction from. */
  private readonly decoded = new Map<number, Uint8Array>();
  /**
   * Per frame: 1 when written since the last `takeDirty()` (snapshots store only those).
   * The CPUs' fast write paths need a frame already marked, so they cost nothing here.
   */
  readonly dirty: Uint8Array;
  /** The frames `dirty` marks. */
  private dirtyFrames: number[] = [];
  /** Per frame: 1 when a watch covers part of it (CPUs then take their slow paths there). */
  readonly watchFrame: Uint8Array;
  private watches: readonly Watch[] = [];
  /** The first watch hit the debugger has not taken yet. */
  watchHit: WatchHit | null = null;
  /** Told of a hit by a write from outside the CPUs (the hypervisor, dom0's backends). */
  onWatch: (() => void) | null = null;

  constructor(frames: number) {
    if (!Number.isInteger(frames) || frames <= 0 || frames > 1 << 20) throw new RangeError(`frame count ${frames} out of range (1..${1 << 20})`);
    this.frames = frames;
    this.bytes = new Uint8Array(frames * PAGE_SIZE);
    this.words = new Int32Array(this.bytes.buffer);
    this.codeFrame = new Uint8Array(frames);
    this.dirty = new Uint8Array(frames);
    this.watchFrame = new Uint8Array(frames);
  }

  /** Replaces the watches (the debugger's data breakpoints). */
  setWatches(watches: readonly Watch[]): void {
    this.watchFrame.fill(0);
    this.watches = watches.filter((w) => w.length > 0);
    for (const w of this.watches) {
      for (let f = w.start >>> PAGE_SHIFT; f <= (w.start + w.length - 1) >>> PAGE_SHIFT && f < this.frames; f++) {
        if (this.watchFrame[f]) continue;
        this.watchFrame[f] = 1;
        for (const c of this.caches) c.frameWatched(f);
      }
    }
  }

  /** Whether an access of `size` bytes at `a` hits a watch; the first hit is kept for the debugger. */
  checkWatch(a: number, size: number, write: boolean, by: 'guest' | 'host' = 'guest'): boolean {
    for (const w of this.watches) {
      if ((write ? w.write : w.read) && a < w.start + w.length && w.start < a + size) {
        this.watchHit ??= { watch: w, address: a, size, write, by };
        return true;
      }
    }
    return false;
  }

  /** A write from outside the CPUs into a watched frame. */
  private watchedWrite(a: number, size: number): void {
    if (this.checkWatch(a, size, true, 'host')) this.onWatch?.();
  }

  markDirty(frame: number): void {
    if (frame >= this.frames || this.dirty[frame]) return;
    this.dirty[frame] = 1;
    this.dirtyFrames.push(frame);
  }

  /** The frames written since the last call (in no particular order); from now on every frame is clean. */
  takeDirty(): number[] {
    const list = this.dirtyFrames;
    for (const f of list) this.dirty[f] = 0;
    this.dirtyFrames = [];
    for (const c of this.caches) c.forgetWriteRights();
    return list;
  }

  /** A CPU joins: it will hear of code frames and of writes to them. */
  attach(cpu: CodeCacheHolder): void {
    this.caches.push(cpu);
  }

  /**
   * Snapshots keep which CPUs share the memory; the bytes are kept frame by frame by the
   * machine's history. A CPU that comes back (its domain's destruction is undone) drops
   * the code it decoded, which writes made while it was away may have changed.
   */
  [SNAPSHOT](): () => void {
    const caches = this.caches.slice();
    return () => {
      const back = caches.filter((c) => !this.caches.includes(c));
      this.caches.length = 0;
      this.caches.push(...caches);
      for (const c of back) c.dropAllCode();
    };
  }

  /** A CPU goes (its domain was destroyed): it hears of nothing more. */
  detach(cpu: CodeCacheHolder): void {
    const i = this.caches.indexOf(cpu);
    if (i >= 0) this.caches.splice(i, 1);
  }

  /**
   * Some CPU cached an instruction of `len` bytes at `offset` in `frame`: from now on
   * every CPU's writes to the frame take the slow path, which checks them against it.
   */
  codeCached(frame: number, offset: number, len: number): void {
    let bytes = this.decoded.get(frame);
    if (bytes === undefined) this.decoded.set(frame, (bytes = new Uint8Array(PAGE_SIZE)));
    bytes.fill(1, offset, offset + len);
    if (this.codeFrame[frame]) return;
    this.codeFrame[frame] = 1;
    for (const c of this.caches) c.frameBecameCode(frame);
  }

  /** `n` bytes at `a`, in a frame that holds cached code, are written: its code goes if they touch it. */
  codeWrite(a: number, n: number): void {
    const frame = a >>> PAGE_SHIFT;
    const bytes = this.decoded.get(frame);
    const end = Math.min((a & PAGE_MASK) + n, PAGE_SIZE);
    if (bytes !== undefined) {
      let hit = false;
      for (let i = a & PAGE_MASK; i < end && !hit; i++) hit = bytes[i] !== 0;
      if (!hit) return;
    }
    this.codeWritten(frame);
  }

  /** `frame`, which holds cached code, changed: every CPU drops what it decoded from it. */
  codeWritten(frame: number): void {
    this.codeFrame[frame] = 0;
    this.decoded.delete(frame);
    for (const c of this.caches) c.dropCode(frame);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Whether [addr, addr + n) lies in memory. */
  contains(addr: number, n = 1): boolean {
    return addr >= 0 && n >= 0 && addr + n <= this.bytes.length;
  }

  /** Where there is no memory, reads give 0 and writes go nowhere (as the CPU's accesses do). */
  read8(a: number): number {
    return a < this.bytes.length ? this.bytes[a] : 0;
  }

  read16(a: number): number {
    return this.read8(a) | (this.read8(a + 1) << 8);
  }

  read32(a: number): number {
    if ((a & 3) === 0 && a < this.bytes.length) return this.words[a >>> 2] >>> 0;
    return (this.read8(a) | (this.read8(a + 1) << 8) | (this.read8(a + 2) << 16) | (this.read8(a + 3) << 24)) >>> 0;
  }

  write8(a: number, v: number): void {
    if (a >= this.bytes.length) return; // no memory there: the write goes nowhere
    const f = a >>> PAGE_SHIFT;
    if (this.codeFrame[f]) this.codeWrite(a, 1);
    if (!this.dirty[f]) this.markDirty(f);
    if (this.watchFrame[f]) this.watchedWrite(a, 1);
    this.bytes[a] = v;
  }

  write16(a: number, v: number): void {
    this.write8(a, v & 0xff);
    this.write8(a + 1, (v >>> 8) & 0xff);
  }

  write32(a: number, v: number): void {
    if ((a & 3) === 0 && a < this.bytes.length) {
      const f = a >>> PAGE_SHIFT;
      if (this.codeFrame[f]) this.codeWrite(a, 4);
      if (!this.dirty[f]) this.markDirty(f);
      if (this.watchFrame[f]) this.watchedWrite(a, 4);
      this.words[a >>> 2] = v;
      return;
    }
    this.write8(a, v & 0xff);
    this.write8(a + 1, (v >>> 8) & 0xff);
    this.write8(a + 2, (v >>> 16) & 0xff);
    this.write8(a + 3, (v >>> 24) & 0xff);
  }

  /**
   * A page-table entry's accessed/dirty bits set by a CPU's page walk: a write as far as
   * snapshots and decoded code go, but not one a data breakpoint sees (the MMU's, not the program's).
   */
  updateEntry(a: number, v: number): void {
    const f = a >>> PAGE_SHIFT;
    if (this.codeFrame[f]) this.codeWrite(a, 4);
    if (!this.dirty[f]) this.markDirty(f);
    this.words[a >>> 2] = v;
  }

  /** Copies `data` to physical address `a` (loaders, the hypervisor writing guest memory). */
  load(a: number, data: Uint8Array): void {
    if (!this.contains(a, data.length)) throw new RangeError(`load of ${data.length} bytes at ${a.toString(16)} is outside memory`);
    for (let f = a >>> PAGE_SHIFT; f <= (a + data.length - 1) >>> PAGE_SHIFT && data.length; f++) {
      this.markDirty(f);
      if (this.watchFrame[f]) this.watchedWrite(a, data.length);
      if (!this.codeFrame[f]) continue;
      const from = Math.max(a, f << PAGE_SHIFT);
      this.codeWrite(from, Math.min(a + data.length, (f + 1) << PAGE_SHIFT) - from);
    }
    this.bytes.set(data, a);
  }
}
