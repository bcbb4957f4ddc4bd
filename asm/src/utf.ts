// UTF-8, UTF-16 and UTF-32 for string literals and the strings of an ELF file (asm/src
// has no DOM or Node types, so no TextEncoder). nasm's escapes (`\U7FFFFFFF`) reach past
// Unicode; they are written in the original UTF-8's five- and six-byte forms, as nasm does.

/** Appends the UTF-8 bytes of a code point (any 32-bit value) to `out`. */
export function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) return void out.push(cp);
  const n = cp < 0x800 ? 1 : cp < 0x10000 ? 2 : cp < 0x200000 ? 3 : cp < 0x4000000 ? 4 : 5;
  out.push(((0xff00 >> (n + 1)) & 0xff) | Math.floor(cp / 2 ** (6 * n)));
  for (let k = n - 1; k >= 0; k--) out.push(0x80 | (Math.floor(cp / 2 ** (6 * k)) & 0x3f));
}

/** The UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) pushUtf8(out, ch.codePointAt(0)!);
  return Uint8Array.from(out);
}

/** The code point at `i` of UTF-8 bytes and how many bytes it took; an invalid sequence is U+FFFD in one byte. */
export function decodeCodePoint(bytes: Uint8Array, i: number): [number, number] {
  const b0 = bytes[i];
  if (b0 < 0x80) return [b0, 1];
  const extra = b0 >= 0xf0 && b0 < 0xf8 ? 3 : b0 >= 0xe0 ? 2 : b0 >= 0xc0 ? 1 : -1;
  if (extra < 0 || i + extra >= bytes.length) return [0xfffd, 1];
  let cp = b0 & (0x3f >> extra);
  for (let k = 1; k <= extra; k++) {
    const b = bytes[i + k];
    if ((b & 0xc0) !== 0x80) return [0xfffd, 1];
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = [0, 0x80, 0x800, 0x10000][extra];
  const valid = cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
  return valid ? [cp, extra + 1] : [0xfffd, 1];
}

/** The code points of UTF-8 bytes (leniently, as decodeCodePoint reads them). */
export function utf8CodePoints(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length;) {
    const [cp, used] = decodeCodePoint(bytes, i);
    out.push(cp);
    i += used;
  }
  return out;
}

/** Lenient UTF-8 decoding: an invalid sequence becomes U+FFFD, so decoding never fails. */
export function utf8Decode(bytes: Uint8Array): string {
  let text = '';
  for (const cp of utf8CodePoints(bytes)) text += String.fromCodePoint(cp);
  return text;
}

/** Code points in UTF-16 (`width` 2, surrogate pairs beyond the BMP) or UTF-32, little- or big-endian. */
export function encodeUtf(codePoints: readonly number[], width: 2 | 4, bigEndian: boolean): Uint8Array {
  const units: number[] = [];
  for (const c of codePoints) {
    if (width === 4 || c < 0x10000) units.push(c);
    else units.push(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
  }
  const out = new Uint8Array(units.length * width);
  const view = new DataView(out.buffer);
  units.forEach((u, k) => (width === 2 ? view.setUint16(k * 2, u, !bigEndian) : view.setUint32(k * 4, u, !bigEndian)));
  return out;
}
