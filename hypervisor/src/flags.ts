// EFLAGS bit positions and the parity table shared by the CPU's flag logic.

export const CF = 1 << 0;
/** Bit 1 always reads as 1. */
export const FIXED1 = 1 << 1;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL_SHIFT = 12;
export const IOPL = 3 << IOPL_SHIFT;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const ID = 1 << 21;

/** The six status flags arithmetic instructions write. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** Every flag this CPU keeps (no virtual-8086 mode, no VIF/VIP). */
export const KNOWN = STATUS | TF | IF | DF | IOPL | NT | RF | AC | ID;

/** PF for each value of a result's low byte: set when it has an even number of 1 bits. */
export const PARITY: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let n = 0;
    for (let b = i; b; b >>= 1) n += b & 1;
    t[i] = n % 2 === 0 ? PF : 0;
  }
  return t;
})();
