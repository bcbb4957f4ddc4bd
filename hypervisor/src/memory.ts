// Machine memory: 4 KiB frames in one byte array, indexed by physical address. Every
// write from outside the CPU goes through here so that cached decoded code of a written
// frame is dropped (the CPU's own stores check the same per-frame flag inline).

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SIZE - 1;

export class PhysicalMemory {
  readonly bytes: Uint8Array;
  /** The same bytes as little-endian words, for aligned accesses. */
  readonly words: Int32Array;
  readonly frames: number;
  /** Per frame: 1 when the CPU holds decoded instructions from it. */
  readonly codeFrame: Uint8Array;
  /** Called with a frame number when a write hits a frame whose code is cached. */
  onCodeWrite: (frame: number) => void = () => {};

  constructor(frames: number) {
    if (!Number.isInteger(frames) || frames <= 0 || frames > 1 << 20) throw new RangeError(`frame count ${frames} out of range (1..${1 << 20})`);
    this.frames = frames;
    this.bytes = new Uint8Array(frames * PAGE_SIZE);
    this.words = new Int32Array(this.bytes.buffer);
    this.codeFrame = new Uint8Array(frames);
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
    if (this.codeFrame[f]) this.onCodeWrite(f);
    this.bytes[a] = v;
  }

  write16(a: number, v: number): void {
    this.write8(a, v & 0xff);
    this.write8(a + 1, (v >>> 8) & 0xff);
  }

  write32(a: number, v: number): void {
    if ((a & 3) === 0 && a < this.bytes.length) {
      const f = a >>> PAGE_SHIFT;
      if (this.codeFrame[f]) this.onCodeWrite(f);
      this.words[a >>> 2] = v;
      return;
    }
    this.write8(a, v & 0xff);
    this.write8(a + 1, (v >>> 8) & 0xff);
    this.write8(a + 2, (v >>> 16) & 0xff);
    this.write8(a + 3, (v >>> 24) & 0xff);
  }

  /** Copies `data` to physical address `a` (loaders, the hypervisor writing guest memory). */
  load(a: number, data: Uint8Array): void {
    if (!this.contains(a, data.length)) throw new RangeError(`load of ${data.length} bytes at ${a.toString(16)} is outside memory`);
    for (let f = a >>> PAGE_SHIFT; f <= (a + data.length - 1) >>> PAGE_SHIFT && data.length; f++) if (this.codeFrame[f]) this.onCodeWrite(f);
    this.bytes.set(data, a);
  }
}
