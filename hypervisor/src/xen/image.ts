// A guest kernel as the domain builder takes it: loadable segments and the .note.Xen
// notes, already read from the ELF file by the caller (the toolchain's ELF reader), so
// the hypervisor has no file format of its own to parse.

import { xenElfNote } from '../../../isa/src/index.js';

export interface GuestSegment {
  /** Virtual address the segment is linked at. */
  vaddr: number;
  /** Its bytes in the file; the rest up to memsz is zero. */
  data: Uint8Array;
  memsz: number;
}

export interface GuestNote {
  /** XEN_ELFNOTE_* number. */
  type: number;
  desc: Uint8Array;
}

export interface GuestImage {
  entry: number;
  segments: GuestSegment[];
  notes: GuestNote[];
}

/** A numeric note's value (little-endian, 4 or 8 bytes; the low 32 bits), or undefined. */
export function numericNote(image: GuestImage, name: string): number | undefined {
  const type = xenElfNote(name)?.value;
  const note = image.notes.find((n) => n.type === type);
  if (!note || note.desc.length < 4) return undefined;
  const d = note.desc;
  return (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
}

/** A string note's text, or undefined. */
export function stringNote(image: GuestImage, name: string): string | undefined {
  const type = xenElfNote(name)?.value;
  const note = image.notes.find((n) => n.type === type);
  if (!note) return undefined;
  const end = note.desc.indexOf(0);
  return String.fromCharCode(...note.desc.subarray(0, end < 0 ? note.desc.length : end));
}
