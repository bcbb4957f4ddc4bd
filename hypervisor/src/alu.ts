// The general registers and EFLAGS with lazily computed status flags: the last
// flag-setting operation is remembered (its kind, operands and result) and the flags are
// worked out only when something reads them. The arithmetic that sets flags lives here
// too; the CPU (cpu.ts) builds on it, and compiled blocks (jit.ts) write the same
// lazy-flag fields.

import { ALU_ADC, ALU_ADD, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB, ALU_XOR, SH_SHL, SH_SHR } from './compile.js';
import { AF, CF, FIXED1, KNOWN, OF, PARITY, PF, SF, STATUS, ZF } from './flags.js';
import { L_ADD, L_DEC, L_INC, L_LOGIC, L_NONE, L_SUB } from './jit.js';

/** All-ones and sign bit of an operand of 1, 2 or 4 bytes (indexed by size). */
export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff];
export const SIGN = [0, 0x80, 0x8000, 0, 0x80000000];

/**
 * EAX..EDI as the ModRM encoding numbers them. The const enum is for code on the hypercall
 * path: bundled, a module constant is a variable that optimized code loads and checks at
 * each use, while a const enum member is inlined as a number.
 */
export const enum Reg { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI }
export const EAX = Reg.EAX, ECX = Reg.ECX, EDX = Reg.EDX, EBX = Reg.EBX, ESP = Reg.ESP, EBP = Reg.EBP, ESI = Reg.ESI, EDI = Reg.EDI;

export class Alu {
  readonly regs = new Int32Array(8);
  /** EFLAGS; the status bits are stale while a lazy operation is pending (use getFlags()). */
  protected fl = FIXED1;
  /** Lazy status flags: the last flag-setting operation (L_*), its result, operands and size. */
  lop = L_NONE;
  lres = 0;
  la = 0;
  lb = 0;
  /** Carry into the last add/sub (adc/sbb), or the CF kept by inc/dec. */
  lc = 0;
  lsize = 4;
  /**
   * Counts setFlags() calls: a compiled block that stored its flags before a hypercall
   * keeps using them afterwards only if the hypervisor set none (Cpu.blockHypercall).
   */
  flagWrites = 0;

  getFlags(): number {
    if (this.lop !== L_NONE) this.materialize();
    return this.fl >>> 0;
  }
  setFlags(v: number): void {
    this.flagWrites++;
    this.lop = L_NONE;
    this.fl = (v & KNOWN) | FIXED1;
  }
  /** shl/shr/sar of a 32-bit value by an immediate count (as shift() does; compiled blocks call it). */
  shift32(op: number, v: number, count: number): number {
    count &= 31;
    if (count === 0) return v; // nothing changes, not even the flags
    let r: number, cf: number, of: number;
    if (op === SH_SHL) {
      r = (v << count) >>> 0;
      cf = (v >>> (32 - count)) & 1;
      of = (r >>> 31) ^ cf;
    } else if (op === SH_SHR) {
      r = v >>> count;
      cf = (v >>> (count - 1)) & 1;
      of = v >>> 31;
    } else {
      r = (v | 0) >> count >>> 0;
      cf = ((v | 0) >> (count - 1)) & 1;
      of = 0;
    }
    this.resultFlags(r, 4, (cf ? CF : 0) | (of ? OF : 0));
    return r;
  }
  /** inc/dec of a 32-bit value: CF is kept. */
  incDec32(a: number, inc: boolean): number {
    const c = this.cf() ? CF : 0;
    const r = (inc ? a + 1 : a - 1) >>> 0;
    this.lop = inc ? L_INC : L_DEC;
    this.lres = r; this.la = a; this.lb = 1; this.lc = c; this.lsize = 4;
    return r;
  }
  protected materialize(): void {
    const res = this.lres, size = this.lsize;
    let f = this.fl & ~STATUS;
    f |= PARITY[res & 0xff];
    if (res === 0) f |= ZF;
    if (res & SIGN[size]) f |= SF;
    const a = this.la, b = this.lb;
    switch (this.lop) {
      case L_ADD:
        if (a + b + this.lc > MASK[size]) f |= CF;
        if ((a ^ res) & (b ^ res) & SIGN[size]) f |= OF;
        f |= (a ^ b ^ res) & AF;
        break;
      case L_SUB:
        if (a < b + this.lc) f |= CF;
        if ((a ^ b) & (a ^ res) & SIGN[size]) f |= OF;
        f |= (a ^ b ^ res) & AF;
        break;
      case L_INC:
        f |= this.lc;
        if (res === SIGN[size]) f |= OF;
        if ((res & 0xf) === 0) f |= AF;
        break;
      case L_DEC:
        f |= this.lc;
        if (res === SIGN[size] - 1) f |= OF;
        if ((res & 0xf) === 0xf) f |= AF;
        break;
      case L_LOGIC:
        break;
    }
    this.fl = f;
    this.lop = L_NONE;
  }
  /** CF (compiled blocks call it when they do not know the flags). */
  carry(): boolean {
    return this.cf();
  }
  protected cf(): boolean {
    switch (this.lop) {
      case L_ADD: return this.la + this.lb + this.lc > MASK[this.lsize];
      case L_SUB: return this.la < this.lb + this.lc;
      case L_LOGIC: return false;
      case L_INC: case L_DEC: return this.lc !== 0;
      default: return (this.fl & CF) !== 0;
    }
  }
  protected zf(): boolean {
    return this.lop !== L_NONE ? this.lres === 0 : (this.fl & ZF) !== 0;
  }
  protected sf(): boolean {
    return this.lop !== L_NONE ? (this.lres & SIGN[this.lsize]) !== 0 : (this.fl & SF) !== 0;
  }
  protected of(): boolean {
    if (this.lop === L_NONE || this.lop === L_INC || this.lop === L_DEC) return (this.getFlags() & OF) !== 0;
    if (this.lop === L_LOGIC) return false;
    const a = this.la, b = this.lb, r = this.lres, s = SIGN[this.lsize];
    return this.lop === L_ADD ? ((a ^ r) & (b ^ r) & s) !== 0 : ((a ^ b) & (a ^ r) & s) !== 0;
  }
  protected pf(): boolean {
    return this.lop !== L_NONE ? PARITY[this.lres & 0xff] !== 0 : (this.fl & PF) !== 0;
  }
  /** Condition code (the tttn nibble of jcc/setcc/cmovcc). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.of(); break;
      case 1: r = this.cf(); break;
      case 2: r = this.zf(); break;
      case 3: r = this.cf() || this.zf(); break;
      case 4: r = this.sf(); break;
      case 5: r = this.pf(); break;
      case 6: r = this.sf() !== this.of(); break;
      default: r = this.zf() || this.sf() !== this.of(); break;
    }
    return (cc & 1) !== 0 ? !r : r;
  }
  /** Replaces the status flags with `bits` (only those in `which`). */
  protected setStatus(which: number, bits: number): void {
    if (this.lop !== L_NONE) this.materialize();
    this.fl = (this.fl & ~which) | (bits & which);
  }
  /** Status flags from a result: ZF, SF and PF; CF, OF, AF as given. */
  protected resultFlags(res: number, size: number, cfOfAf: number): void {
    let f = PARITY[res & 0xff] | cfOfAf;
    if (res === 0) f |= ZF;
    if (res & SIGN[size]) f |= SF;
    this.lop = L_NONE;
    this.fl = (this.fl & ~STATUS) | f;
  }
  getReg(r: number, size: number): number {
    if (size === 4) return this.regs[r] >>> 0;
    if (size === 2) return this.regs[r] & 0xffff;
    return r < 4 ? this.regs[r] & 0xff : (this.regs[r - 4] >>> 8) & 0xff;
  }
  setReg(r: number, size: number, v: number): void {
    if (size === 4) this.regs[r] = v;
    else if (size === 2) this.regs[r] = (this.regs[r] & ~0xffff) | (v & 0xffff);
    else if (r < 4) this.regs[r] = (this.regs[r] & ~0xff) | (v & 0xff);
    else this.regs[r - 4] = (this.regs[r - 4] & ~0xff00) | ((v & 0xff) << 8);
  }
  /** alu() for 32-bit operands, the common case. */
  alu32(op: number, a: number, b: number): number {
    let r: number;
    switch (op) {
      case ALU_ADD: r = (a + b) >>> 0; this.lop = L_ADD; this.lc = 0; break;
      case ALU_SUB: case ALU_CMP: r = (a - b) >>> 0; this.lop = L_SUB; this.lc = 0; break;
      case ALU_AND: r = (a & b) >>> 0; this.lop = L_LOGIC; break;
      case ALU_OR: r = (a | b) >>> 0; this.lop = L_LOGIC; break;
      case ALU_XOR: r = (a ^ b) >>> 0; this.lop = L_LOGIC; break;
      default: return this.alu(op, a, b, 4); // adc, sbb
    }
    this.lres = r; this.la = a; this.lb = b; this.lsize = 4;
    return r;
  }
  /** The eight classic ALU operations; sets the status flags (lazily where it can). */
  protected alu(op: number, a: number, b: number, size: number): number {
    const m = MASK[size];
    let r: number;
    switch (op) {
      case ALU_ADD: case ALU_ADC: {
        const c = op === ALU_ADC && this.cf() ? 1 : 0;
        r = ((a + b + c) & m) >>> 0;
        this.lop = L_ADD; this.lc = c;
        break;
      }
      case ALU_SUB: case ALU_SBB: case ALU_CMP: {
        const c = op === ALU_SBB && this.cf() ? 1 : 0;
        r = ((a - b - c) & m) >>> 0;
        this.lop = L_SUB; this.lc = c;
        break;
      }
      case ALU_AND: r = (a & b) >>> 0; this.lop = L_LOGIC; break;
      case ALU_OR: r = (a | b) >>> 0; this.lop = L_LOGIC; break;
      default: r = (a ^ b) >>> 0; this.lop = L_LOGIC; break; // ALU_XOR
    }
    this.lres = r; this.la = a; this.lb = b; this.lsize = size;
    return r;
  }
  logic(r: number, size: number): void {
    this.lop = L_LOGIC;
    this.lres = r;
    this.lsize = size;
  }
}

/** A value of `size` bytes as a signed number. */
export function signed(v: number, size: number): number {
  return size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
}
