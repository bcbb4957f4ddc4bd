// ELF note entries: namesz, descsz, type (4 bytes each), then the name and the
// descriptor, each padded to a 4-byte boundary (ELF32 notes are 4-aligned).
// Note type numbers are owned by isa/src/xen; everything here takes them as data.

import { utf8Decode, utf8Encode } from '../utf.js';
import { ByteReader, ByteWriter, type DecodeError, catchDecode, decodeError } from './bytes.js';
import type { ImageNote } from '../image.js';

export type { DecodeError } from './bytes.js';
export { isDecodeError } from './bytes.js';

/** Encodes one note entry; `name` gets its terminating NUL, both parts are padded to 4. */
export function encodeNote(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = utf8Encode(name);
  if (nameBytes.includes(0)) throw new RangeError(`note name ${JSON.stringify(name)} contains NUL`);
  const w = new ByteWriter();
  w.u32(nameBytes.length + 1).u32(desc.length).u32(type >>> 0);
  w.bytes(nameBytes).u8(0).alignTo(4);
  w.bytes(desc).alignTo(4);
  return w.finish();
}

/** Encodes several notes back to back, as they appear in a `.note.*` section. */
export function encodeNotes(notes: readonly ImageNote[]): Uint8Array {
  const w = new ByteWriter();
  for (const n of notes) w.bytes(encodeNote(n.name, n.type, n.desc));
  return w.finish();
}

/**
 * Decodes a sequence of note entries. `base` is added to error offsets (the position
 * of `bytes` in the file). Tolerated: missing padding after the very last entry, and
 * trailing zero bytes shorter than a note header (section alignment padding).
 */
export function decodeNotes(bytes: Uint8Array, base = 0): ImageNote[] | DecodeError {
  return catchDecode(() => {
    const r = new ByteReader(bytes, base);
    const notes: ImageNote[] = [];
    while (r.remaining > 0) {
      if (r.remaining < 12 && bytes.subarray(r.pos).every((b) => b === 0)) break;
      notes.push(readNote(r));
    }
    return notes;
  });
}

function readNote(r: ByteReader): ImageNote {
  const start = r.pos;
  const namesz = r.u32('note namesz');
  const descsz = r.u32('note descsz');
  const type = r.u32('note type');
  if (namesz > r.remaining) r.fail(`note name size ${namesz} exceeds the ${r.remaining} bytes left`, start);
  const rawName = r.bytes(namesz, 'note name');
  skipPadding(r, namesz);
  if (descsz > r.remaining) r.fail(`note descriptor size ${descsz} exceeds the ${r.remaining} bytes left`, start + 4);
  const desc = r.bytes(descsz, 'note descriptor');
  skipPadding(r, descsz);
  return { name: noteName(rawName), type, desc };
}

/** Skips the padding after a field of `size` bytes, allowing it to be cut off by the end of the data. */
function skipPadding(r: ByteReader, size: number): void {
  const pad = (4 - (size % 4)) % 4;
  r.pos += Math.min(pad, r.remaining);
}

/** The name is NUL-terminated inside namesz; anything after the first NUL is ignored. */
function noteName(raw: Uint8Array): string {
  const nul = raw.indexOf(0);
  return utf8Decode(nul < 0 ? raw : raw.subarray(0, nul));
}

/** Descriptor holding a 4-byte little-endian value. */
export function u32Desc(value: number): Uint8Array {
  return new ByteWriter().u32(value).finish();
}

/** Descriptor holding an 8-byte little-endian value. */
export function u64Desc(value: bigint | number): Uint8Array {
  const v = BigInt.asUintN(64, BigInt(value));
  return new ByteWriter().u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n)).finish();
}

/** Descriptor holding a NUL-terminated UTF-8 string. */
export function stringDesc(text: string): Uint8Array {
  return new ByteWriter().cstring(text).finish();
}

/** A note descriptor read as an unsigned little-endian integer of 1, 2, 4 or 8 bytes. */
export function noteBigInt(desc: Uint8Array): bigint | DecodeError {
  if (![1, 2, 4, 8].includes(desc.length)) {
    return decodeError(0, `numeric note descriptor must be 1, 2, 4 or 8 bytes, not ${desc.length}`);
  }
  let v = 0n;
  for (let i = desc.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(desc[i]);
  return v;
}

/** Like noteBigInt, as a Number; an 8-byte value above 2^53 is an error rather than silently rounded. */
export function noteNumber(desc: Uint8Array): number | DecodeError {
  const v = noteBigInt(desc);
  if (typeof v !== 'bigint') return v;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    return decodeError(0, `note value 0x${v.toString(16)} is too large for a Number`);
  }
  return Number(v);
}

/**
 * A note descriptor read as a string: the bytes before the first NUL. A descriptor with
 * no NUL at all is accepted whole (Xen's own reader would run past it; we stay in bounds).
 */
export function noteString(desc: Uint8Array): string {
  const nul = desc.indexOf(0);
  return utf8Decode(nul < 0 ? desc : desc.subarray(0, nul));
}
