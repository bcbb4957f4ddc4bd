// The semantics of every instruction the CPU runs: operand access, the arithmetic that
// needs memory operands (multiply, divide, shifts, bit tests), string instructions with
// their repeat prefixes, and the system instructions (segment loads, iret, far transfers,
// control registers, cpuid). The run loop (cpu.ts) calls step() for whatever its fast
// paths and compiled blocks do not cover.

import { ALU_ADD, ALU_CMP, ALU_SUB, BT_BT, BT_BTR, BT_BTS, CLS_IOPL, CLS_PRIV, CS, Insn, K_CREG, K_IMM, K_MEM, K_REG, K_SREG, Op, SH_RCL, SH_RCR, SH_ROL, SH_ROR, SH_SHL, SH_SHR, SS } from './compile.js';
import { AC, AF, CF, DF, FIXED1, ID, IF, IOPL, IOPL_SHIFT, NT, OF, PF, RF, SF, STATUS, TF, VM, ZF } from './flags.js';
import { PAGE_MASK, PAGE_SHIFT, type PhysicalMemory } from './memory.js';
import { EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, MASK, signed } from './alu.js';
import { BP, CpuFault, CR0_PE, HYPERCALL_VECTOR, CR0_PG, CR0_TS, CR0_WP, CR4_PCE, CR4_TSD, DB, DE, GP, OFV, UD } from './arch.js';
import { Mmu } from './mmu.js';
import { L_DEC, L_INC } from './jit.js';

export type StopReason =
  /** The cycle budget ran out (the next instruction has not started). */
  | { kind: 'budget' }
  /** EIP is at a breakpoint address; the instruction there has not run. */
  | { kind: 'breakpoint'; address: number }
  /**
   * `int 0x82` ran: EIP is past it. Not handled: the hypercall's registers are the guest's.
   * Handled (by `hypercallHandler`, which asked for the run to end): its result is in EAX.
   */
  | { kind: 'hypercall'; handled: boolean }
  /**
   * An exception or software interrupt for the hypervisor to deliver. Faults leave EIP at
   * the faulting instruction; traps (int n, int3, into, single-step) after it.
   * errorCode is -1 when the vector has none; CR2 holds a page fault's address.
   */
  | { kind: 'exception'; vector: number; errorCode: number; software: boolean }
  /** `hlt` at CPL 0. */
  | { kind: 'halt' }
  /**
   * A debugger's stop, between two instructions like a breakpoint's: the stop target
   * (`Cpu.stopAt`) was reached, or a stop was requested (`Cpu.requestStop`).
   */
  | { kind: 'target' }
  | { kind: 'requested' };

/** The stops that carry nothing, shared (a scheduler meets them millions of times). */
export const BUDGET_STOP: StopReason = Object.freeze({ kind: 'budget' });
export const TARGET_STOP: StopReason = Object.freeze({ kind: 'target' });
export const REQUESTED_STOP: StopReason = Object.freeze({ kind: 'requested' });
export const HYPERCALL_STOP: StopReason = Object.freeze({ kind: 'hypercall', handled: false });
export const HYPERCALL_HANDLED_STOP: StopReason = Object.freeze({ kind: 'hypercall', handled: true });

export interface DescriptorTableRegister {
  base: number;
  limit: number;
}

const PAGE_SIZE = 1 << PAGE_SHIFT;

export class Exec extends Mmu {
  /** Segment selectors by sreg number (es, cs, ss, ds, fs, gs). Bases are 0, limits 4 GiB. */
  readonly sregs = new Uint16Array(6);
  readonly dr = new Int32Array(8);
  gdtr: DescriptorTableRegister = { base: 0, limit: 0 };
  idtr: DescriptorTableRegister = { base: 0, limit: 0 };
  ldtr = 0;
  tr = 0;
  /** Gate DPL of each interrupt vector: `int n` from a CPL above it raises #GP. */
  readonly gateDpl = new Uint8Array(256);

  /** Retired instructions, and cycles (instructions plus repeated string iterations). */
  instructions = 0;
  cycles = 0;
  /**
   * The hypervisor's hypercall handler, called at the `int 0x82` itself (EIP past it), so
   * that a hypercall needs no trip out of run(): true to run on, false to end run() with
   * a handled 'hypercall' stop (the hypervisor has something to look at). Without one,
   * run() stops before anything handles the hypercall.
   */
  hypercallHandler: (() => boolean) | null = null;

  constructor(mem: PhysicalMemory) {
    super(mem);
    // Xen's IDT: int3 and into may be used from any ring, the hypercall gate from ring 1.
    this.gateDpl[BP] = 3;
    this.gateDpl[OFV] = 3;
    this.gateDpl[HYPERCALL_VECTOR] = 1;
  }

  get iopl(): number {
    return (this.fl & IOPL) >>> IOPL_SHIFT;
  }

  /** The memory operand's linear address (segment bases are 0). */
  protected ea(i: Insn): number {
    if (i.a16 === 0) {
      let a = i.disp;
      if (i.base >= 0) a += this.regs[i.base];
      if (i.index >= 0) a += this.regs[i.index] << i.scale;
      return a >>> 0;
    }
    let a = i.disp;
    if (i.base >= 0) a += this.regs[i.base] & 0xffff;
    if (i.index >= 0) a += this.regs[i.index] & 0xffff;
    return a & 0xffff;
  }

  protected get0(i: Insn, ea: number): number {
    return i.k0 === K_REG ? this.getReg(i.r0, i.s0) : i.k0 === K_MEM ? this.readSize(ea, i.s0) : i.imm;
  }

  protected get1(i: Insn, ea: number): number {
    return i.k1 === K_REG ? this.getReg(i.r1, i.s1) : i.k1 === K_MEM ? this.readSize(ea, i.s1) : i.k1 === K_IMM ? i.imm : 0;
  }

  protected set0(i: Insn, ea: number, v: number): void {
    if (i.k0 === K_REG) this.setReg(i.r0, i.s0, v);
    else this.writeSize(ea, i.s0, v);
  }

  protected set1(i: Insn, ea: number, v: number): void {
    if (i.k1 === K_REG) this.setReg(i.r1, i.s1, v);
    else this.writeSize(ea, i.s1, v);
  }

  /** For a read-modify-write memory destination: check it is writable before reading it. */
  protected checkRmw(i: Insn, ea: number): void {
    if (i.k0 === K_MEM) {
      this.translate(ea, true);
      if (((ea & PAGE_MASK) + i.s0) > PAGE_SIZE) this.translate(ea + i.s0 - 1, true);
    }
  }

  push(v: number, size: number): void {
    const sp = (this.regs[ESP] - size) >>> 0;
    this.writeSize(sp, size, v);
    this.regs[ESP] = sp;
  }

  pop(size: number): number {
    const sp = this.regs[ESP] >>> 0;
    const v = this.readSize(sp, size);
    this.regs[ESP] = sp + size;
    return v;
  }

  /** Stops for an exception; `trap`: EIP already points past the instruction. */
  protected exception(vector: number, errorCode: number, software: boolean): StopReason {
    return { kind: 'exception', vector, errorCode, software };
  }

  /** Executes one instruction; returns a stop reason or null to go on. */
  protected step(i: Insn, end: number): StopReason | null {
    if (i.cls === CLS_PRIV ? this.cpl > 0 : i.cls === CLS_IOPL && this.cpl > this.iopl) throw new CpuFault(GP, 0);
    const next = (this.eip + i.len) >>> 0;
    /** Where execution goes on: the next instruction unless this one branches. */
    let target = next;
    const ea = i.mem !== 0 ? this.ea(i) : 0;
    const size = i.size;
    switch (i.op) {
      case Op.MOV: {
        if (i.k0 === K_SREG) this.loadSegment(i.r0, this.get1(i, ea) & 0xffff);
        else if (i.k1 === K_SREG) {
          // To a register the selector is zero-extended; to memory it is 16 bits.
          const sel = this.sregs[i.r1];
          if (i.k0 === K_REG) this.setReg(i.r0, i.s0, sel);
          else this.write16(ea, sel);
        } else this.set0(i, ea, this.get1(i, ea));
        break;
      }
      case Op.MOVZX:
        this.setReg(i.r0, i.s0, this.get1(i, ea));
        break;
      case Op.MOVSX: {
        const v = this.get1(i, ea);
        this.setReg(i.r0, i.s0, i.s1 === 1 ? (v << 24) >> 24 : (v << 16) >> 16);
        break;
      }
      case Op.LEA:
        this.setReg(i.r0, i.s0, ea);
        break;
      case Op.XCHG: {
        this.checkRmw(i, ea);
        const a = this.get0(i, ea), b = this.get1(i, ea);
        if (i.k1 === K_MEM) {
          this.set1(i, ea, a);
          this.set0(i, ea, b);
        } else {
          this.set0(i, ea, b);
          this.set1(i, ea, a);
        }
        break;
      }
      case Op.PUSH: {
        if (i.k0 === K_SREG) {
          // Recent Intel processors write 16 bits, leaving the rest of the slot alone.
          const sp = (this.regs[ESP] - size) >>> 0;
          this.write16(sp, this.sregs[i.r0]);
          this.regs[ESP] = sp;
        } else {
          // push esp pushes the value before the push
          this.push(this.get0(i, ea), size);
        }
        break;
      }
      case Op.POP: {
        if (i.k0 === K_SREG) {
          const sp = this.regs[ESP] >>> 0;
          const v = this.read16(sp);
          this.loadSegment(i.r0, v);
          this.regs[ESP] = sp + size;
        } else if (i.k0 === K_MEM) {
          // pop [esp+d] computes the address with ESP already incremented
          const sp = this.regs[ESP] >>> 0;
          const v = this.readSize(sp, size);
          this.regs[ESP] = sp + size;
          try {
            this.writeSize(this.ea(i), size, v);
          } catch (e) {
            this.regs[ESP] = sp;
            throw e;
          }
        } else {
          const v = this.readSize(this.regs[ESP] >>> 0, size);
          this.regs[ESP] = (this.regs[ESP] >>> 0) + size;
          this.setReg(i.r0, size, v);
        }
        break;
      }
      case Op.PUSHA: {
        const sp = this.regs[ESP] >>> 0;
        this.checkWritable((sp - size * 8) >>> 0);
        for (let r = 0; r < 8; r++) this.writeSize((sp - size * (r + 1)) >>> 0, size, r === ESP ? sp : this.regs[r]);
        this.setReg(ESP, 4, (sp - size * 8) >>> 0);
        break;
      }
      case Op.POPA: {
        const sp = this.regs[ESP] >>> 0;
        const vals: number[] = [];
        for (let r = 7; r >= 0; r--) vals[r] = this.readSize((sp + size * (7 - r)) >>> 0, size);
        for (let r = 0; r < 8; r++) if (r !== ESP) this.setReg(r, size, vals[r]);
        this.regs[ESP] = sp + size * 8;
        break;
      }
      case Op.PUSHF:
        // Sensitive: at any CPL this shows the real IF and IOPL. VM and RF read as 0.
        this.push(this.getFlags() & ~(RF | VM) & MASK[size], size);
        break;
      case Op.POPF: {
        const v = this.readSize(this.regs[ESP] >>> 0, size);
        this.regs[ESP] = (this.regs[ESP] >>> 0) + size;
        this.writeFlags(v, size, 0);
        break;
      }
      case Op.BSWAP: {
        const v = this.regs[i.r0];
        this.regs[i.r0] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff);
        break;
      }
      case Op.CMOV: {
        // The source is read (and may fault) whether or not the condition holds.
        const v = this.get1(i, ea);
        if (this.cond(i.cc)) this.setReg(i.r0, i.s0, v);
        break;
      }
      case Op.SETCC:
        this.set0(i, ea, this.cond(i.cc) ? 1 : 0);
        break;
      case Op.CBW:
        if (size === 2) this.setReg(EAX, 2, (this.regs[EAX] << 24) >> 24);
        else this.regs[EAX] = (this.regs[EAX] << 16) >> 16;
        break;
      case Op.CWD:
        if (size === 2) this.setReg(EDX, 2, this.regs[EAX] & 0x8000 ? 0xffff : 0);
        else this.regs[EDX] = this.regs[EAX] >> 31;
        break;
      case Op.LAHF:
        this.setReg(4, 1, (this.getFlags() & (SF | ZF | AF | PF | CF)) | FIXED1);
        break;
      case Op.SAHF:
        this.setStatus(SF | ZF | AF | PF | CF, this.getReg(4, 1));
        break;
      case Op.XLAT: {
        const a = i.a16 ? (this.regs[EBX] + (this.regs[EAX] & 0xff)) & 0xffff : (this.regs[EBX] + (this.regs[EAX] & 0xff)) >>> 0;
        this.setReg(EAX, 1, this.read8(a));
        break;
      }
      case Op.ALU: {
        this.checkRmw(i, ea);
        const a = this.get0(i, ea), b = (this.get1(i, ea) & MASK[size]) >>> 0;
        const r = this.alu(i.sub, a, b, size);
        if (i.sub !== ALU_CMP) this.set0(i, ea, r);
        break;
      }
      case Op.TEST: {
        const r = (this.get0(i, ea) & this.get1(i, ea)) >>> 0;
        this.logic(r, size);
        break;
      }
      case Op.INC: case Op.DEC: {
        this.checkRmw(i, ea);
        const a = this.get0(i, ea);
        const c = this.cf() ? CF : 0;
        const r = ((i.op === Op.INC ? a + 1 : a - 1) & MASK[size]) >>> 0;
        this.set0(i, ea, r);
        this.lop = i.op === Op.INC ? L_INC : L_DEC;
        this.lres = r; this.la = a; this.lb = 1; this.lc = c; this.lsize = size;
        break;
      }
      case Op.NOT:
        this.checkRmw(i, ea);
        this.set0(i, ea, ~this.get0(i, ea) & MASK[size]);
        break;
      case Op.NEG: {
        this.checkRmw(i, ea);
        const b = this.get0(i, ea);
        const r = this.alu(ALU_SUB, 0, b, size);
        this.set0(i, ea, r);
        break;
      }
      case Op.MUL: this.mul(i, ea, false); break;
      case Op.IMUL1: this.mul(i, ea, true); break;
      case Op.IMUL: {
        const a = signed(this.get1(i, ea), size), b = signed(i.k2 === K_IMM ? i.imm : i.k2 === K_REG ? this.getReg(i.r2, i.s2) : this.readSize(ea, i.s2), size);
        const full = BigInt(a) * BigInt(b);
        const r = Number(BigInt.asUintN(size * 8, full));
        const overflow = BigInt.asIntN(size * 8, full) !== full;
        this.setReg(i.r0, size, r);
        this.resultFlags(r, size, overflow ? CF | OF : 0);
        break;
      }
      case Op.DIV: this.div(i, ea, false); break;
      case Op.IDIV: this.div(i, ea, true); break;
      case Op.XADD: {
        this.checkRmw(i, ea);
        const a = this.get0(i, ea), b = this.get1(i, ea);
        const r = this.alu(ALU_ADD, a, b, size);
        this.set1(i, ea, a);
        this.set0(i, ea, r);
        break;
      }
      case Op.CMPXCHG: {
        this.checkRmw(i, ea);
        const dst = this.get0(i, ea);
        const acc = this.getReg(EAX, size);
        this.alu(ALU_CMP, acc, dst, size);
        // The destination is always written (with its own value when unequal), as on hardware.
        if (acc === dst) this.set0(i, ea, this.get1(i, ea));
        else {
          this.set0(i, ea, dst);
          this.setReg(EAX, size, dst);
        }
        break;
      }
      case Op.CMPXCHG8B: {
        this.checkWritable(ea);
        this.checkWritable(ea + 7);
        const lo = this.read32(ea), hi = this.read32(ea + 4);
        if (lo === this.regs[EAX] >>> 0 && hi === this.regs[EDX] >>> 0) {
          this.write32(ea, this.regs[EBX]);
          this.write32(ea + 4, this.regs[ECX]);
          this.setStatus(ZF, ZF);
        } else {
          this.write32(ea, lo);
          this.write32(ea + 4, hi);
          this.regs[EAX] = lo;
          this.regs[EDX] = hi;
          this.setStatus(ZF, 0);
        }
        break;
      }
      case Op.SHIFT: this.shift(i, ea); break;
      case Op.SHLD: case Op.SHRD: this.doubleShift(i, ea); break;
      case Op.BT: this.bitTest(i, ea); break;
      case Op.BSF: case Op.BSR: {
        const v = this.get1(i, ea);
        if (v === 0) {
          // The destination is left unchanged (what Intel and AMD processors do).
          this.setStatus(ZF, ZF);
        } else {
          const bit = i.op === Op.BSF ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
          this.setReg(i.r0, i.s0, bit);
          this.setStatus(ZF, 0);
        }
        break;
      }
      case Op.JMP:
        target = i.o16 ? (next + i.rel) & 0xffff : (next + i.rel) >>> 0;
        break;
      case Op.JMP_RM:
        target = this.get0(i, ea) >>> 0;
        break;
      case Op.JCC:
        if (this.cond(i.cc)) target = i.o16 ? (next + i.rel) & 0xffff : (next + i.rel) >>> 0;
        break;
      case Op.JCXZ: {
        const c = i.sub === 2 ? this.regs[ECX] & 0xffff : this.regs[ECX];
        if (c === 0) target = (next + i.rel) >>> 0;
        break;
      }
      case Op.LOOP: {
        const c = i.a16 ? (this.regs[ECX] - 1) & 0xffff : (this.regs[ECX] - 1) | 0;
        const taken = c !== 0 && (i.sub === 0 || (i.sub === 1 ? this.zf() : !this.zf()));
        if (i.a16) this.setReg(ECX, 2, c);
        else this.regs[ECX] = c;
        if (taken) target = (next + i.rel) >>> 0;
        break;
      }
      case Op.CALL:
        this.push(next, 4);
        target = (next + i.rel) >>> 0;
        break;
      case Op.CALL_RM: {
        const to = this.get0(i, ea) >>> 0;
        this.push(next, 4);
        target = to;
        break;
      }
      case Op.RET: {
        target = this.read32(this.regs[ESP] >>> 0);
        this.regs[ESP] = (this.regs[ESP] >>> 0) + 4 + (i.k0 === K_IMM ? i.imm : 0);
        break;
      }
      case Op.ENTER: {
        const frame = i.imm & 0xffff, level = i.imm2 & 31;
        const ebp = this.regs[EBP];
        this.push(ebp, 4);
        const frameTemp = this.regs[ESP];
        for (let l = 1; l < level; l++) this.push(this.read32((ebp - 4 * l) >>> 0), 4);
        if (level > 0) this.push(frameTemp, 4);
        this.regs[EBP] = frameTemp;
        this.regs[ESP] = this.regs[ESP] - frame;
        break;
      }
      case Op.LEAVE: {
        const v = this.read32(this.regs[EBP] >>> 0);
        this.regs[ESP] = this.regs[EBP] + 4;
        this.regs[EBP] = v;
        break;
      }
      case Op.INT: return this.softInterrupt(i.imm & 0xff, next);
      case Op.INT3: return this.softInterrupt(BP, next);
      case Op.INT1:
        this.eip = next;
        return this.exception(DB, -1, true);
      case Op.INTO:
        if (!this.of()) break;
        return this.softInterrupt(OFV, next);
      case Op.IRET: target = this.iret(size); break;
      case Op.RETF: target = this.retf(i.k0 === K_IMM ? i.imm : 0); break;
      case Op.JMP_FAR: case Op.CALL_FAR: target = this.farTransfer(i, ea, next); break;
      case Op.MOVS: case Op.STOS: case Op.LODS: case Op.CMPS: case Op.SCAS:
        return this.string(i, next, end);
      case Op.INS: case Op.OUTS:
        // No devices: an allowed port read gives all ones and writes go nowhere.
        if (this.cpl > this.iopl) throw new CpuFault(GP, 0);
        return this.string(i, next, end);
      case Op.CLC: this.setStatus(CF, 0); break;
      case Op.STC: this.setStatus(CF, CF); break;
      case Op.CMC: this.setStatus(CF, this.cf() ? 0 : CF); break;
      case Op.CLD: this.fl &= ~DF; break;
      case Op.STD: this.fl |= DF; break;
      case Op.CLI: this.fl &= ~IF; break;
      case Op.STI: this.fl |= IF; break;
      case Op.NOP: break;
      case Op.CPUID: this.cpuid(); break;
      case Op.RDTSC:
        if (this.cr4 & CR4_TSD && this.cpl > 0) throw new CpuFault(GP, 0);
        this.regs[EAX] = this.cycles;
        this.regs[EDX] = Math.floor(this.cycles / 0x100000000);
        break;
      case Op.RDPMC:
        if (!(this.cr4 & CR4_PCE) && this.cpl > 0) throw new CpuFault(GP, 0);
        this.regs[EAX] = this.regs[EDX] = 0;
        break;
      case Op.HLT:
        this.eip = next;
        this.instructions++;
        this.cycles++;
        return { kind: 'halt' };
      case Op.SGDT: case Op.SIDT: {
        // Sensitive: reveals the real table registers at any CPL.
        const t = i.op === Op.SGDT ? this.gdtr : this.idtr;
        this.checkWritable(ea);
        this.checkWritable(ea + 5);
        this.write16(ea, t.limit);
        this.write32(ea + 2, t.base);
        break;
      }
      case Op.SLDT: case Op.STR: case Op.SMSW: {
        const v = i.op === Op.SLDT ? this.ldtr : i.op === Op.STR ? this.tr : this.cr0 & 0xffff;
        if (i.k0 === K_MEM) this.write16(ea, v);
        else this.setReg(i.r0, i.s0, i.op === Op.SMSW && i.s0 === 4 ? this.cr0 : v);
        break;
      }
      case Op.LGDT: case Op.LIDT: {
        const limit = this.read16(ea), base = this.read32(ea + 2);
        const t = { base: i.o16 ? base & 0xffffff : base, limit };
        if (i.op === Op.LGDT) this.gdtr = t;
        else this.idtr = t;
        break;
      }
      case Op.LLDT: this.ldtr = this.get0(i, ea) & 0xffff; break;
      case Op.LTR: this.tr = this.get0(i, ea) & 0xffff; break;
      case Op.LMSW: {
        // lmsw sets PE, MP, EM, TS and cannot clear PE.
        const v = this.get0(i, ea);
        this.cr0 = (this.cr0 & ~0xe) | (v & 0xf) | (this.cr0 & CR0_PE);
        break;
      }
      case Op.CLTS: this.cr0 &= ~CR0_TS; break;
      case Op.LAR: case Op.LSL: case Op.VERR: case Op.VERW:
        // No descriptor table is modelled yet: every selector is invalid for these checks.
        this.get0(i, ea);
        if (i.op === Op.LAR || i.op === Op.LSL) this.get1(i, ea);
        this.setStatus(ZF, 0);
        break;
      case Op.INVLPG: this.invalidatePage(ea); break;
      case Op.RDMSR: case Op.WRMSR:
        // No model-specific registers.
        throw new CpuFault(GP, 0);
      case Op.MOV_CR: {
        if (i.k0 === K_CREG) this.writeCr(i.r0, this.regs[i.r1]);
        else this.regs[i.r0] = this.readCr(i.r1);
        break;
      }
      case Op.MOV_DR:
        if (i.k0 === K_REG) this.regs[i.r0] = this.dr[i.r1];
        else this.dr[i.r0] = this.regs[i.r1];
        break;
      case Op.LSEG: {
        const off = this.readSize(ea, size);
        const sel = this.read16(ea + size);
        this.loadSegment(i.sub, sel);
        this.setReg(i.r0, size, off);
        break;
      }
      case Op.IN: case Op.OUT: {
        if (this.cpl > this.iopl) throw new CpuFault(GP, 0);
        if (i.op === Op.IN) this.setReg(EAX, i.s0, MASK[i.s0]);
        break;
      }
      default:
        throw new CpuFault(UD);
    }
    this.eip = target;
    this.instructions++;
    this.cycles++;
    return null;
  }

  /** Retires a control-transfer instruction (they set EIP themselves). */
  protected retire(): void {
    this.instructions++;
    this.cycles++;
  }

  protected softInterrupt(vector: number, next: number): StopReason | null {
    if (this.gateDpl[vector] < this.cpl) throw new CpuFault(GP, (vector << 3) | 2);
    this.eip = next;
    this.retire();
    if (vector === HYPERCALL_VECTOR) {
      const handler = this.hypercallHandler;
      return handler === null ? HYPERCALL_STOP : handler() ? null : HYPERCALL_HANDLED_STOP;
    }
    return this.exception(vector, -1, true);
  }

  protected mul(i: Insn, ea: number, signedMul: boolean): void {
    const size = i.size;
    const src = this.get0(i, ea);
    const acc = this.getReg(EAX, size);
    const bits = size * 8;
    let lo: number, hi: number, overflow: boolean;
    if (signedMul) {
      const full = BigInt(signed(acc, size)) * BigInt(signed(src, size));
      lo = Number(BigInt.asUintN(bits, full));
      hi = Number(BigInt.asUintN(bits, full >> BigInt(bits)));
      overflow = BigInt.asIntN(bits, full) !== full;
    } else {
      const full = BigInt(acc) * BigInt(src);
      lo = Number(BigInt.asUintN(bits, full));
      hi = Number(full >> BigInt(bits));
      overflow = hi !== 0;
    }
    if (size === 1) this.setReg(EAX, 2, (hi << 8) | lo);
    else {
      this.setReg(EAX, size, lo);
      this.setReg(EDX, size, hi);
    }
    // SF, ZF, PF from the low half and AF clear: undefined by Intel, modelled so.
    this.resultFlags(lo, size, overflow ? CF | OF : 0);
  }

  protected div(i: Insn, ea: number, signedDiv: boolean): void {
    const size = i.size;
    const bits = BigInt(size * 8);
    const divisor = this.get0(i, ea);
    if (divisor === 0) throw new CpuFault(DE);
    let dividend: bigint;
    if (size === 1) dividend = BigInt(this.regs[EAX] & 0xffff);
    else dividend = (BigInt(this.getReg(EDX, size)) << bits) | BigInt(this.getReg(EAX, size));
    let q: bigint, r: bigint;
    if (signedDiv) {
      const n = BigInt.asIntN(size * 16, dividend);
      const d = BigInt(signed(divisor, size));
      q = n / d;
      r = n % d;
      if (q !== BigInt.asIntN(size * 8, q)) throw new CpuFault(DE);
    } else {
      const d = BigInt(divisor);
      q = dividend / d;
      r = dividend % d;
      if (q >> bits !== 0n) throw new CpuFault(DE);
    }
    const qn = Number(BigInt.asUintN(size * 8, q)), rn = Number(BigInt.asUintN(size * 8, r));
    if (size === 1) this.setReg(EAX, 2, (rn << 8) | qn);
    else {
      this.setReg(EAX, size, qn);
      this.setReg(EDX, size, rn);
    }
    // All status flags are undefined after div; they are left as they were.
  }

  protected shift(i: Insn, ea: number): void {
    const size = i.size, bits = size * 8, m = MASK[size];
    const count = (i.k1 === K_IMM ? i.imm : this.regs[ECX]) & 31;
    if (count === 0) {
      // Nothing changes, not even the flags; a memory operand is still checked.
      if (i.k0 === K_MEM) this.checkRmw(i, ea);
      return;
    }
    this.checkRmw(i, ea);
    const v = this.get0(i, ea);
    const f = this.getFlags();
    let r: number, cf: number, of: number;
    switch (i.sub) {
      case SH_ROL: {
        const n = count % bits;
        r = n === 0 ? v : ((v << n) | (v >>> (bits - n))) & m;
        cf = r & 1;
        of = (cf ^ (r >>> (bits - 1))) & 1;
        this.set0(i, ea, r >>> 0);
        this.fl = (f & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
        return;
      }
      case SH_ROR: {
        const n = count % bits;
        r = n === 0 ? v : ((v >>> n) | (v << (bits - n))) & m;
        cf = (r >>> (bits - 1)) & 1;
        of = (cf ^ (r >>> (bits - 2))) & 1;
        this.set0(i, ea, r >>> 0);
        this.fl = (f & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
        return;
      }
      case SH_RCL: case SH_RCR: {
        const n = count % (bits + 1);
        let c = f & CF;
        r = v;
        for (let k = 0; k < n; k++) {
          if (i.sub === SH_RCL) {
            const out = (r >>> (bits - 1)) & 1;
            r = ((r << 1) | c) & m;
            c = out;
          } else {
            const out = r & 1;
            r = (r >>> 1) | (c << (bits - 1));
            c = out;
          }
        }
        r >>>= 0;
        of = i.sub === SH_RCL ? (c ^ (r >>> (bits - 1))) & 1 : ((r >>> (bits - 1)) ^ (r >>> (bits - 2))) & 1;
        this.set0(i, ea, r);
        this.fl = (f & ~(CF | OF)) | (c ? CF : 0) | (of ? OF : 0);
        return;
      }
      case SH_SHL: {
        r = count < 32 ? (v << count) & m : 0;
        cf = count <= bits ? (v >>> (bits - count)) & 1 : 0;
        of = ((r >>> (bits - 1)) & 1) ^ cf;
        break;
      }
      case SH_SHR: {
        r = count < bits ? v >>> count : 0;
        cf = count <= bits ? (v >>> (count - 1)) & 1 : 0;
        of = (v >>> (bits - 1)) & 1;
        break;
      }
      default: { // SH_SAR
        const s = signed(v, size);
        r = (count < bits ? s >> count : s >> (bits - 1)) & m;
        cf = (count < bits ? s >> (count - 1) : s >> (bits - 1)) & 1;
        of = 0;
        break;
      }
    }
    r >>>= 0;
    this.set0(i, ea, r);
    // AF is undefined after a shift by a non-zero count: modelled as clear.
    this.resultFlags(r, size, (cf ? CF : 0) | (of ? OF : 0));
  }

  protected doubleShift(i: Insn, ea: number): void {
    const size = i.size, bits = size * 8, m = MASK[size];
    const count = (i.k2 === K_IMM ? i.imm : this.regs[ECX]) & 31;
    if (count === 0) return;
    this.checkRmw(i, ea);
    const dst = this.get0(i, ea), src = this.getReg(i.r1, size);
    let r: number, cf: number;
    if (size === 4 || count <= 16) {
      // A 16-bit shift by more than 16 is undefined; it is modelled as shifting the
      // 32-bit concatenation (what recent Intel processors do).
      if (i.op === Op.SHLD) {
        const wide = (BigInt(dst) << BigInt(bits)) | BigInt(src);
        const shifted = wide << BigInt(count);
        r = Number(BigInt.asUintN(bits, shifted >> BigInt(bits)));
        cf = Number((wide >> BigInt(2 * bits - count)) & 1n);
      } else {
        const wide = (BigInt(src) << BigInt(bits)) | BigInt(dst);
        r = Number(BigInt.asUintN(bits, wide >> BigInt(count)));
        cf = Number((wide >> BigInt(count - 1)) & 1n);
      }
    } else {
      const n = count;
      const pattern = i.op === Op.SHLD ? (BigInt(dst) << 32n) | (BigInt(src) << 16n) | BigInt(dst) : (BigInt(dst) << 32n) | (BigInt(src) << 16n) | BigInt(dst);
      if (i.op === Op.SHLD) {
        r = Number(BigInt.asUintN(16, pattern >> BigInt(32 - n)));
        cf = Number((pattern >> BigInt(48 - n)) & 1n);
      } else {
        r = Number(BigInt.asUintN(16, pattern >> BigInt(n)));
        cf = Number((pattern >> BigInt(n - 1)) & 1n);
      }
    }
    r = (r & m) >>> 0;
    const of = ((r ^ dst) >>> (bits - 1)) & 1;
    this.set0(i, ea, r);
    this.resultFlags(r, size, (cf ? CF : 0) | (of ? OF : 0));
  }

  protected bitTest(i: Insn, ea: number): void {
    const size = i.size, bits = size * 8;
    let offset: number, v: number, addr = ea;
    if (i.k1 === K_IMM) {
      offset = i.imm & (bits - 1);
    } else {
      const raw = this.getReg(i.r1, size);
      if (i.k0 === K_MEM) {
        // A register bit offset reaches outside the operand: signed, in units of the size.
        const sOff = signed(raw, size);
        addr = (ea + size * Math.floor(sOff / bits)) >>> 0;
        offset = ((sOff % bits) + bits) % bits;
      } else offset = raw & (bits - 1);
    }
    if (i.k0 === K_MEM) {
      if (i.sub !== BT_BT) {
        this.translate(addr, true);
        if ((addr & PAGE_MASK) + size > PAGE_SIZE) this.translate(addr + size - 1, true);
      }
      v = this.readSize(addr, size);
    } else v = this.getReg(i.r0, size);
    const bit = (v >>> offset) & 1;
    this.setStatus(CF, bit ? CF : 0);
    if (i.sub === BT_BT) return;
    const mask = (1 << offset) >>> 0;
    const r = (i.sub === BT_BTS ? v | mask : i.sub === BT_BTR ? v & ~mask : v ^ mask) >>> 0;
    if (i.k0 === K_MEM) this.writeSize(addr, size, r);
    else this.setReg(i.r0, size, r);

  }

  /** One string instruction, repeated under rep; stops at the cycle budget mid-way. */
  protected string(i: Insn, next: number, end: number): StopReason | null {
    const size = i.size;
    const delta = this.fl & DF ? -size : size;
    const a16 = i.a16 !== 0;
    const rep = i.rep;
    const counted = rep !== 0;
    for (;;) {
      if (counted) {
        const c = a16 ? this.regs[ECX] & 0xffff : this.regs[ECX];
        if (c === 0) break;
      }
      const si = a16 ? this.regs[ESI] & 0xffff : this.regs[ESI] >>> 0;
      const di = a16 ? this.regs[EDI] & 0xffff : this.regs[EDI] >>> 0;
      let stopOnFlags = false;
      switch (i.op) {
        case Op.MOVS: this.writeSize(di, size, this.readSize(si, size)); break;
        case Op.STOS: this.writeSize(di, size, this.getReg(EAX, size)); break;
        case Op.LODS: this.setReg(EAX, size, this.readSize(si, size)); break;
        case Op.CMPS: {
          const a = this.readSize(si, size), b = this.readSize(di, size);
          this.alu(ALU_CMP, a, b, size);
          stopOnFlags = true;
          break;
        }
        case Op.SCAS: {
          const b = this.readSize(di, size);
          this.alu(ALU_CMP, this.getReg(EAX, size), b, size);
          stopOnFlags = true;
          break;
        }
        case Op.INS: this.writeSize(di, size, MASK[size]); break;
        case Op.OUTS: this.readSize(si, size); break;
      }
      const usesSi = i.op === Op.MOVS || i.op === Op.LODS || i.op === Op.CMPS || i.op === Op.OUTS;
      const usesDi = i.op !== Op.LODS && i.op !== Op.OUTS;
      if (usesSi) this.setIndex(ESI, si + delta, a16);
      if (usesDi) this.setIndex(EDI, di + delta, a16);
      if (!counted) break;
      this.setIndex(ECX, (a16 ? this.regs[ECX] & 0xffff : this.regs[ECX] >>> 0) - 1, a16);
      if (stopOnFlags && (rep === 1 ? !this.zf() : this.zf())) break;
      const left = a16 ? this.regs[ECX] & 0xffff : this.regs[ECX];
      if (left === 0) break;
      this.cycles++;
      if (this.cycles >= end) return BUDGET_STOP; // EIP stays: the rest runs on resume
    }
    this.eip = next;
    this.retire();
    return null;
  }

  protected setIndex(r: number, v: number, a16: boolean): void {
    if (a16) this.setReg(r, 2, v);
    else this.regs[r] = v;
  }

  /** popf/iret: which flags the CPL may change (IOPL at CPL 0 only, IF at CPL <= IOPL). */
  protected writeFlags(v: number, size: number, cplOverride: number): void {
    const cpl = cplOverride || this.cpl;
    let changeable = STATUS | TF | DF | NT | AC | ID;
    if (size === 2) changeable &= 0xffff;
    if (cpl === 0) changeable |= IOPL;
    if (cpl <= this.iopl) changeable |= IF;
    const f = this.getFlags();
    this.setFlags((f & ~changeable) | (v & changeable));
  }

  protected loadSegment(seg: number, sel: number): void {
    if (seg === SS) {
      if ((sel & ~3) === 0) throw new CpuFault(GP, 0);
      if ((sel & 3) !== this.cpl) throw new CpuFault(GP, sel & ~3);
    } else if (seg === CS) {
      throw new CpuFault(UD);
    } else if ((sel & ~3) !== 0 && (sel & 3) < this.cpl) {
      // Segments are flat and a descriptor's DPL is taken to be its selector's RPL (so it
      // is for Xen's flat selectors): an inner ring's data segment is refused, as
      // DPL >= CPL requires.
      throw new CpuFault(GP, sel & ~3);
    }
    this.sregs[seg] = sel;
  }

  /** iret within protected mode: to the same ring, or out to an outer ring. */
  protected iret(size: number): number {
    if (this.fl & NT) throw new CpuFault(GP, 0); // no task switches
    const sp = this.regs[ESP] >>> 0;
    const eip = this.readSize(sp, size);
    const cs = this.readSize(sp + size, size) & 0xffff;
    const flags = this.readSize(sp + 2 * size, size);
    const rpl = cs & 3;
    if ((cs & ~3) === 0) throw new CpuFault(GP, 0);
    if (rpl < this.cpl) throw new CpuFault(GP, cs & ~3);
    if (rpl === this.cpl) {
      this.writeFlags(flags, size, 0);
      this.regs[ESP] = sp + 3 * size;
    } else {
      const esp = this.readSize(sp + 3 * size, size);
      const ss = this.readSize(sp + 4 * size, size) & 0xffff;
      if ((ss & ~3) === 0 || (ss & 3) !== rpl) throw new CpuFault(GP, ss & ~3);
      this.writeFlags(flags, size, 0);
      this.sregs[SS] = ss;
      this.regs[ESP] = esp;
    }
    this.sregs[CS] = cs;
    this.setCpl(rpl);
    return size === 2 ? eip & 0xffff : eip;
  }

  protected retf(release: number): number {
    const sp = this.regs[ESP] >>> 0;
    const eip = this.read32(sp);
    const cs = this.read32(sp + 4) & 0xffff;
    const rpl = cs & 3;
    if ((cs & ~3) === 0) throw new CpuFault(GP, 0);
    if (rpl < this.cpl) throw new CpuFault(GP, cs & ~3);
    if (rpl === this.cpl) this.regs[ESP] = sp + 8 + release;
    else {
      const esp = this.read32(sp + 8 + release);
      const ss = this.read32(sp + 12 + release) & 0xffff;
      if ((ss & ~3) === 0 || (ss & 3) !== rpl) throw new CpuFault(GP, ss & ~3);
      this.sregs[SS] = ss;
      this.regs[ESP] = esp + release;
    }
    this.sregs[CS] = cs;
    this.setCpl(rpl);
    return eip;
  }

  /** Far jmp/call: only to a code segment of the current ring (no call gates). */
  protected farTransfer(i: Insn, ea: number, next: number): number {
    let sel: number, off: number;
    if (i.k0 === K_MEM) {
      off = this.read32(ea);
      sel = this.read16(ea + 4);
    } else {
      off = i.imm;
      sel = i.imm2;
    }
    if ((sel & ~3) === 0) throw new CpuFault(GP, 0);
    if ((sel & 3) !== this.cpl) throw new CpuFault(GP, sel & ~3);
    if (i.op === Op.CALL_FAR) {
      const sp = this.regs[ESP] >>> 0;
      this.checkWritable((sp - 8) >>> 0);
      this.write32((sp - 4) >>> 0, this.sregs[CS]);
      this.write32((sp - 8) >>> 0, next);
      this.regs[ESP] = sp - 8;
    }
    this.sregs[CS] = sel;
    return off >>> 0;
  }

  protected readCr(n: number): number {
    switch (n) {
      case 0: return this.cr0;
      case 2: return this.cr2;
      case 3: return this.cr3v;
      default: return this.cr4;
    }
  }

  protected writeCr(n: number, v: number): void {
    switch (n) {
      case 0: {
        const changed = (this.cr0 ^ v) & (CR0_PG | CR0_WP | CR0_PE);
        this.cr0 = v | 0;
        if (changed) this.flushTlb();
        break;
      }
      case 2: this.cr2 = v >>> 0; break;
      case 3: this.cr3 = v; break;
      default: this.cr4 = v | 0; this.flushTlb(); break;
    }
  }

  /** cpuid on the registers (Xen runs it too, for a forced-emulation prefix). */
  cpuid(): void {
    const leaf = this.regs[EAX] >>> 0;
    const r = this.regs;
    const text = (s: string) => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
    if (leaf === 0) {
      r[EAX] = 1; r[EBX] = text('Genu'); r[EDX] = text('ineI'); r[ECX] = text('ntel');
    } else if (leaf === 1) {
      // Family 6; TSC, CX8, CMOV; ECX bit 31: running under a hypervisor.
      r[EAX] = 0x00000630; r[EBX] = 0; r[ECX] = 1 << 31; r[EDX] = (1 << 4) | (1 << 8) | (1 << 15);
    } else if (leaf === 0x40000000) {
      // The hypervisor leaf, as Xen answers it.
      r[EAX] = 0x40000002; r[EBX] = text('XenV'); r[ECX] = text('MMXe'); r[EDX] = text('nVMM');
    } else {
      r[EAX] = r[EBX] = r[ECX] = r[EDX] = 0;
    }
  }
}
