// Number and text formatting shared by the view models, so every panel writes an address,
// a count or a change the same way (and the same in VS Code and in the playground).

/** `0x` and `width` hex digits (8: a 32-bit value). */
export const hex = (n: number, width = 8): string => '0x' + (n >>> 0).toString(16).padStart(width, '0');

/** `0x` and as few hex digits as the value needs (frame numbers, small fields). */
export const shortHex = (n: number): string => '0x' + (n >>> 0).toString(16);

/** A count with thousands separators, whatever the host's locale. */
export const count = (n: number): string => (Number.isInteger(n) ? n : Number(n.toFixed(2))).toLocaleString('en-US');

/** `n thing` or `n things`. */
export const plural = (n: number, thing: string, things = `${thing}s`): string => `${count(n)} ${n === 1 ? thing : things}`;

/** A change since the previous stop: ` (+3)`, ` (-1)`, or nothing when there was none or no previous stop. */
export function delta(now: number, before: number | undefined): string {
  if (before === undefined || now === before) return '';
  const d = now - before;
  return ` (${d > 0 ? '+' : '-'}${count(Math.abs(d))})`;
}
