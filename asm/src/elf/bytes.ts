// Little-endian byte building and bounds-checked reading shared by the ELF, note and
// DWARF codecs (their UTF-8 is ../utf.ts's).

import { utf8Decode, utf8Encode } from '../utf.js';

/** A decoding failure: what was wrong and the byte offset where it was noticed. */
export interface DecodeError {
  kind: 'error';
  offset: number;
  message: string;
}

export function decodeError(offset: number, message: string): DecodeError {
  return { kind: 'error', offset, message };
}

export function isDecodeError(value: unknown): value is DecodeError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'error';
}

/** Thrown only inside decoders and turned into a DecodeError at their public boundary. */
export class DecodeFailure extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

/** Runs a decoder that signals malformed input with DecodeFailure; other exceptions are bugs and propagate. */
export function catchDecode<T>(run: () => T): T | DecodeError {
  try {
    return run();
  } catch (e) {
    if (e instanceof DecodeFailure) return decodeError(e.offset, e.message);
    throw e;
  }
}

/** Growable little-endian output buffer. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }

  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }

  /** Appends bytes given as any array-like of numbers (`count` of them from `at`). */
  append(data: ArrayLike<number>, at = 0, count = data.length - at): this {
    this.reserve(count);
    for (let i = at; i < at + count; i++) this.buf[this.len++] = data[i] & 0xff;
    return this;
  }

  /** A copy of bytes [from, to). */
  slice(from: number, to = this.len): Uint8Array {
    return this.buf.slice(from, Math.min(to, this.len));
  }

  bytes(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  /** Appends `times` more copies of the bytes from offset `from` to the end. */
  repeat(from: number, times: number): this {
    const total = (this.len - from) * times;
    this.reserve(total);
    // Doubling copies: what is repeated so far is copied whole (or what is still missing).
    for (let done = 0; done < total; ) {
      const chunk = Math.min(total - done, this.len + done - from);
      this.buf.copyWithin(this.len + done, from, from + chunk);
      done += chunk;
    }
    this.len += total;
    return this;
  }

  zeros(count: number): this {
    this.reserve(count);
    this.buf.fill(0, this.len, this.len + count);
    this.len += count;
    return this;
  }

  /** UTF-8 text followed by a NUL. */
  cstring(text: string): this {
    return this.bytes(utf8Encode(text)).u8(0);
  }

  uleb(value: number): this {
    let v = value;
    for (;;) {
      const low = v % 128;
      v = Math.floor(v / 128);
      if (v === 0) return this.u8(low);
      this.u8(low | 0x80);
    }
  }

  sleb(value: number): this {
    let v = value;
    for (;;) {
      const low = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      const done = (v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0);
      if (done) return this.u8(low);
      this.u8(low | 0x80);
    }
  }

  /** Pads with zeros up to the next multiple of `align`. */
  alignTo(align: number): this {
    const rem = this.len % align;
    return rem === 0 ? this : this.zeros(align - rem);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Bounds-checked little-endian reader; every overrun throws DecodeFailure with the offset. */
export class ByteReader {
  private readonly view: DataView;
  pos: number;

  /** `base` is added to offsets in error messages so they point into the enclosing file. */
  constructor(readonly data: Uint8Array, readonly base = 0, start = 0) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.data.length - this.pos;
  }

  fail(message: string, at = this.pos): never {
    throw new DecodeFailure(this.base + at, message);
  }

  need(count: number, what: string): void {
    if (count > this.remaining) this.fail(`truncated ${what}: need ${count} bytes, ${Math.max(0, this.remaining)} left`);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.data[this.pos++];
  }

  i8(what = 'byte'): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** 64-bit value as a Number (exact below 2^53). */
  u64(what = 'u64'): number {
    const lo = this.u32(what);
    const hi = this.u32(what);
    return hi * 0x1_0000_0000 + lo;
  }

  /** Unsigned value of 1, 2, 4 or 8 bytes. */
  uN(size: number, what: string): number {
    switch (size) {
      case 1: return this.u8(what);
      case 2: return this.u16(what);
      case 4: return this.u32(what);
      case 8: return this.u64(what);
      default: return this.fail(`unsupported ${size}-byte ${what}`);
    }
  }

  bytes(count: number, what: string): Uint8Array {
    this.need(count, what);
    const out = this.data.slice(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }

  skip(count: number, what: string): void {
    this.need(count, what);
    this.pos += count;
  }

  uleb(what = 'ULEB128'): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8(what);
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
      if (scale > 2 ** 70) this.fail(`${what} too long`);
    }
  }

  sleb(what = 'SLEB128'): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8(what);
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return (b & 0x40) !== 0 ? result - scale : result;
      if (scale > 2 ** 70) this.fail(`${what} too long`);
    }
  }

  /** NUL-terminated UTF-8 string. */
  cstring(what = 'string'): string {
    const end = this.data.indexOf(0, this.pos);
    if (end < 0) this.fail(`unterminated ${what}`);
    const text = utf8Decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }
}

/** Reads the NUL-terminated string at `offset` of a string table, or undefined when out of range/unterminated. */
export function stringAt(table: Uint8Array, offset: number): string | undefined {
  if (offset >= table.length) return undefined;
  const end = table.indexOf(0, offset);
  return end < 0 ? undefined : utf8Decode(table.subarray(offset, end));
}
