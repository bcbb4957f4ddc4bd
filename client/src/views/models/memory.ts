// The Memory panel's model: a hex dump of a range of one address space, 16 bytes a row,
// the bytes that differ from the previous stop's read of the same range marked, and for
// each page of the range the frame behind it and its type.

import type { TranslateBody } from '../../../../protocol/src/index.js';
import { hex } from './format.js';
import { frameText, frameTypeText, ownerText } from './frames.js';
import { memoryReference, SPACE_NAMES, type MemoryLocation } from './memoryReference.js';

export const BYTES_PER_ROW = 16;

/** One read of the range: what readMemory answered (its bytes decoded) and what xen/translate said of its pages. */
export interface MemoryRead {
  location: MemoryLocation;
  /** The bytes readable from the start (a read stops at the first unmapped page). */
  bytes: Uint8Array;
  /** Bytes asked for in all. */
  count: number;
  pages: TranslateBody;
}

export interface ByteCell {
  /** Two hex digits, or `??` for a byte that could not be read. */
  text: string;
  changed: boolean;
}

export interface MemoryRow {
  address: string;
  cells: ByteCell[];
  /** The bytes as Latin-1 text, `.` for unprintable ones. */
  ascii: string;
  /** Index into `pages` of the page the row is in. */
  page: number;
}

export interface MemoryPage {
  address: string;
  /** `machine 0x0001c000`, or `not mapped`. */
  machine: string;
  /** `L1 page table`, `writable`, ... (the frame's type in the frame table). */
  type: string;
  owner: string;
  title: string;
  /** Frames Xen validated as page or descriptor tables: the guest may not write them directly. */
  protected: boolean;
}

export interface MemoryModel {
  /** Where the dump starts, and how many bytes it shows (the panel's address bar). */
  location: MemoryLocation;
  count: number;
  reference: string;
  title: string;
  space: string;
  rows: MemoryRow[];
  pages: MemoryPage[];
  /** Bytes changed since the previous stop's read. */
  changes: number;
}

/** Bytes from the base64 of a readMemory response (atob exists in browsers and in Node). */
export function decodeBase64(data: string | undefined): Uint8Array {
  return Uint8Array.from(atob(data ?? ''), (c) => c.charCodeAt(0));
}

const printable = (b: number) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

function page(p: TranslateBody['pages'][number], xenId: number): MemoryPage {
  const f = p.frame;
  return {
    address: hex(p.address), machine: p.machine === null ? 'not mapped' : `machine ${hex(p.machine)}`,
    type: f ? `${frameTypeText(f.type)}${f.pinned ? ', pinned' : ''}${p.writable === false ? ', read-only mapping' : ''}` : 'not mapped',
    owner: f ? ownerText(f.owner, xenId) : '-', title: f ? frameText(f, xenId) : 'no frame behind this page',
    protected: f !== null && (f.type === 'l1' || f.type === 'l2' || f.type === 'seg_desc'),
  };
}

/** The dump of `now`; `before` (the previous stop's read) marks changed bytes when it read the same range. */
export function memoryModel(now: MemoryRead, before?: MemoryRead): MemoryModel {
  const start = now.location.address;
  const same = before !== undefined && before.location.space === now.location.space && before.location.domain === now.location.domain && before.location.address === start;
  const pages = now.pages.pages.map((p) => page(p, now.pages.xenId));
  const firstPage = start >>> 12;
  const rows: MemoryRow[] = [];
  let changes = 0;
  for (let off = 0; off < now.count; off += BYTES_PER_ROW) {
    const cells: ByteCell[] = [];
    let ascii = '';
    for (let i = off; i < Math.min(off + BYTES_PER_ROW, now.count); i++) {
      if (i >= now.bytes.length) {
        cells.push({ text: '??', changed: false });
        ascii += ' ';
        continue;
      }
      const b = now.bytes[i];
      const changed = same && i < before!.bytes.length && before!.bytes[i] !== b;
      if (changed) changes++;
      cells.push({ text: b.toString(16).padStart(2, '0'), changed });
      ascii += printable(b);
    }
    const address = (start + off) >>> 0;
    rows.push({ address: hex(address), cells, ascii, page: Math.min(pages.length - 1, (address >>> 12) - firstPage) });
  }
  const domain = now.location.space === 'machine' ? '' : `dom${now.location.domain} `;
  return { location: now.location, count: now.count, reference: memoryReference(now.location), title: `${domain}${SPACE_NAMES[now.location.space]} ${hex(start)}`, space: SPACE_NAMES[now.location.space], rows, pages, changes };
}
