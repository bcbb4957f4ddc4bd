// Decoded instructions (isa/ decoder) → compact executable records. An `Insn` is built
// once per instruction address and cached by physical address; every Insn has the same
// shape so the interpreter's dispatch stays monomorphic. Semantics are chosen by
// mnemonic: the instruction table stays the one source of truth for encodings and
// privilege classes, this file only says which behaviour each mnemonic has.

import { MNEMONICS, type DecodedInstruction, type DecodedOperand, type InstructionForm } from '../../isa/src/index.js';
import type { Block } from './jit.js';

/** Operand kinds of an Insn. */
export const K_NONE = 0, K_REG = 1, K_MEM = 2, K_IMM = 3, K_SREG = 4, K_CREG = 5, K_DREG = 6;

/** Privilege classes as the interpreter checks them before executing. */
export const CLS_NORMAL = 0, CLS_PRIV = 1, CLS_IOPL = 2, CLS_SENSITIVE = 3;

/** Segment register numbers (the sreg encoding). */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
const SEG_NUMBER: Record<string, number> = { es: ES, cs: CS, ss: SS, ds: DS, fs: FS, gs: GS };

// Semantic operations. The ALU, shift and bit-test groups keep Intel's /digit order in `sub`.
export const enum Op {
  UD, MOV, MOVZX, MOVSX, LEA, XCHG, PUSH, POP, PUSHA, POPA, PUSHF, POPF, BSWAP, CMOV, SETCC, CBW, CWD, LAHF, SAHF, XLAT,
  ALU, TEST, INC, DEC, NOT, NEG, MUL, IMUL1, IMUL, DIV, IDIV, XADD, CMPXCHG, CMPXCHG8B,
  SHIFT, SHLD, SHRD, BT, BSF, BSR,
  JMP, JMP_RM, JMP_FAR, JCC, JCXZ, LOOP, CALL, CALL_RM, CALL_FAR, RET, RETF, INT, INT3, INT1, INTO, IRET, ENTER, LEAVE,
  MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS,
  CLC, STC, CMC, CLD, STD, CLI, STI, NOP, CPUID, RDTSC, RDPMC, HLT,
  LGDT, LIDT, SGDT, SIDT, LLDT, SLDT, LTR, STR, SMSW, LMSW, LAR, LSL, VERR, VERW, CLTS, INVLPG, RDMSR, WRMSR,
  MOV_CR, MOV_DR, LSEG, IN, OUT,
}

/**
 * The commonest 32-bit forms, which the interpreter runs inline without the general
 * operand machinery (R: register, I: immediate, M: memory).
 */
export const enum Fast {
  NONE, MOV_RR, MOV_RI, MOV_RM, MOV_MR, MOV_MI, ALU_RR, ALU_RI, ALU_RM, ALU_MR, ALU_MI, TEST_RR, TEST_RI,
  INC_R, DEC_R, LEA, JCC, JMP, CALL, RET, PUSH_R, PUSH_I, POP_R, SHIFT_RI,
}

export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;
export const SH_ROL = 0, SH_ROR = 1, SH_RCL = 2, SH_RCR = 3, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7;
export const BT_BT = 0, BT_BTS = 1, BT_BTR = 2, BT_BTC = 3;

/** mnemonic → [operation, sub-operation]. Condition codes come from the form. */
const SEMANTICS: Record<string, [Op, number]> = {
  mov: [Op.MOV, 0], movzx: [Op.MOVZX, 0], movsx: [Op.MOVSX, 0], lea: [Op.LEA, 0],
  lss: [Op.LSEG, SS], lfs: [Op.LSEG, FS], lgs: [Op.LSEG, GS], lds: [Op.LSEG, DS], les: [Op.LSEG, ES],
  xchg: [Op.XCHG, 0], push: [Op.PUSH, 0], pop: [Op.POP, 0],
  pusha: [Op.PUSHA, 0], pushad: [Op.PUSHA, 4], pushaw: [Op.PUSHA, 2], popa: [Op.POPA, 0], popad: [Op.POPA, 4], popaw: [Op.POPA, 2],
  pushf: [Op.PUSHF, 0], pushfd: [Op.PUSHF, 4], pushfw: [Op.PUSHF, 2], popf: [Op.POPF, 0], popfd: [Op.POPF, 4], popfw: [Op.POPF, 2],
  bswap: [Op.BSWAP, 0], cbw: [Op.CBW, 2], cwde: [Op.CBW, 4], cwd: [Op.CWD, 2], cdq: [Op.CWD, 4],
  lahf: [Op.LAHF, 0], sahf: [Op.SAHF, 0], xlatb: [Op.XLAT, 0],
  add: [Op.ALU, ALU_ADD], or: [Op.ALU, ALU_OR], adc: [Op.ALU, ALU_ADC], sbb: [Op.ALU, ALU_SBB],
  and: [Op.ALU, ALU_AND], sub: [Op.ALU, ALU_SUB], xor: [Op.ALU, ALU_XOR], cmp: [Op.ALU, ALU_CMP],
  test: [Op.TEST, 0], inc: [Op.INC, 0], dec: [Op.DEC, 0], not: [Op.NOT, 0], neg: [Op.NEG, 0],
  mul: [Op.MUL, 0], imul: [Op.IMUL, 0], div: [Op.DIV, 0], idiv: [Op.IDIV, 0],
  xadd: [Op.XADD, 0], cmpxchg: [Op.CMPXCHG, 0], cmpxchg8b: [Op.CMPXCHG8B, 0],
  rol: [Op.SHIFT, SH_ROL], ror: [Op.SHIFT, SH_ROR], rcl: [Op.SHIFT, SH_RCL], rcr: [Op.SHIFT, SH_RCR],
  shl: [Op.SHIFT, SH_SHL], sal: [Op.SHIFT, SH_SHL], shr: [Op.SHIFT, SH_SHR], sar: [Op.SHIFT, SH_SAR],
  shld: [Op.SHLD, 0], shrd: [Op.SHRD, 0],
  bt: [Op.BT, BT_BT], bts: [Op.BT, BT_BTS], btr: [Op.BT, BT_BTR], btc: [Op.BT, BT_BTC], bsf: [Op.BSF, 0], bsr: [Op.BSR, 0],
  jmp: [Op.JMP, 0], jecxz: [Op.JCXZ, 4], jcxz: [Op.JCXZ, 2],
  loop: [Op.LOOP, 0], loope: [Op.LOOP, 1], loopz: [Op.LOOP, 1], loopne: [Op.LOOP, 2], loopnz: [Op.LOOP, 2],
  call: [Op.CALL, 0], ret: [Op.RET, 0], retn: [Op.RET, 0], retf: [Op.RETF, 0],
  int: [Op.INT, 0], int3: [Op.INT3, 0], int1: [Op.INT1, 0], into: [Op.INTO, 0],
  iret: [Op.IRET, 0], iretd: [Op.IRET, 4], iretw: [Op.IRET, 2], enter: [Op.ENTER, 0], leave: [Op.LEAVE, 0],
  movsb: [Op.MOVS, 1], movsw: [Op.MOVS, 2], movsd: [Op.MOVS, 4], stosb: [Op.STOS, 1], stosw: [Op.STOS, 2], stosd: [Op.STOS, 4],
  lodsb: [Op.LODS, 1], lodsw: [Op.LODS, 2], lodsd: [Op.LODS, 4], cmpsb: [Op.CMPS, 1], cmpsw: [Op.CMPS, 2], cmpsd: [Op.CMPS, 4],
  scasb: [Op.SCAS, 1], scasw: [Op.SCAS, 2], scasd: [Op.SCAS, 4], insb: [Op.INS, 1], insw: [Op.INS, 2], insd: [Op.INS, 4],
  outsb: [Op.OUTS, 1], outsw: [Op.OUTS, 2], outsd: [Op.OUTS, 4],
  clc: [Op.CLC, 0], stc: [Op.STC, 0], cmc: [Op.CMC, 0], cld: [Op.CLD, 0], std: [Op.STD, 0], cli: [Op.CLI, 0], sti: [Op.STI, 0],
  nop: [Op.NOP, 0], pause: [Op.NOP, 0], lfence: [Op.NOP, 0], mfence: [Op.NOP, 0], sfence: [Op.NOP, 0], invd: [Op.NOP, 0], wbinvd: [Op.NOP, 0],
  cpuid: [Op.CPUID, 0], rdtsc: [Op.RDTSC, 0], rdpmc: [Op.RDPMC, 0], ud2: [Op.UD, 0], hlt: [Op.HLT, 0],
  lgdt: [Op.LGDT, 0], lidt: [Op.LIDT, 0], sgdt: [Op.SGDT, 0], sidt: [Op.SIDT, 0], lldt: [Op.LLDT, 0], sldt: [Op.SLDT, 0],
  ltr: [Op.LTR, 0], str: [Op.STR, 0], smsw: [Op.SMSW, 0], lmsw: [Op.LMSW, 0], lar: [Op.LAR, 0], lsl: [Op.LSL, 0],
  verr: [Op.VERR, 0], verw: [Op.VERW, 0], clts: [Op.CLTS, 0], invlpg: [Op.INVLPG, 0], rdmsr: [Op.RDMSR, 0], wrmsr: [Op.WRMSR, 0],
  in: [Op.IN, 0], out: [Op.OUT, 0],
};

/** One decoded instruction, ready to execute. All fields are numbers so every Insn has one shape. */
export class Insn {
  op: Op = Op.UD;
  /** The inline fast path for this instruction, or Fast.NONE. */
  fast: Fast = Fast.NONE;
  sub = 0;
  /** Operation size in bytes (1, 2, 4): of the destination, or the instruction's operand size. */
  size = 4;
  len = 0;
  /** Operand kinds (K_*), register numbers and sizes in bytes, in the form's operand order. */
  k0 = K_NONE; r0 = 0; s0 = 0;
  k1 = K_NONE; r1 = 0; s1 = 0;
  k2 = K_NONE; r2 = 0; s2 = 0;
  /** The immediate (extended to the operand size, unsigned); for far pointers the offset. */
  imm = 0;
  /** A second immediate: enter's nesting level, a far pointer's selector. */
  imm2 = 0;
  /** Relative branch displacement from the next instruction. */
  rel = 0;
  /** The memory operand: base/index register numbers (-1: none), scale as a shift, displacement. */
  base = -1; index = -1; scale = 0; disp = 0;
  seg = DS;
  /** 1 when an operand is in memory (its address is computed before executing). */
  mem = 0;
  /** 16-bit addressing (0x67). */
  a16 = 0;
  /** 16-bit operand size (0x66): for instructions whose size is not in their operands. */
  o16 = 0;
  /** 0: none, 1: rep/repe, 2: repne. */
  rep = 0;
  cls = CLS_NORMAL;
  /** Condition code (jcc, setcc, cmovcc) or -1. */
  cc = -1;
  /** The form, for tools (disassembly, docs); the interpreter never reads it. */
  form: InstructionForm | null = null;
  /** The instruction after this one, and a relative branch's target, once seen in the same page. */
  next: Insn | null = null;
  jump: Insn | null = null;
  /** Where it went last otherwise (ret, indirect jumps), as an offset in the page, and that instruction. */
  dynAt = -1;
  dyn: Insn | null = null;
  /** The compiled block starting here, once this instruction has run often enough. */
  block: Block | null = null;
  /** Times run through the interpreter (towards compiling a block). */
  hits = 0;
}

function operandSize(op: DecodedOperand): number {
  switch (op.type) {
    case 'reg': return op.reg.bits >>> 3;
    case 'mem': return op.bits >>> 3;
    case 'imm': return op.bits >>> 3;
    default: return 4;
  }
}

function classOf(form: InstructionForm): number {
  if (form.cls === 'privileged') return MNEMONICS[form.mnemonic]?.iopl ? CLS_IOPL : CLS_PRIV;
  return form.cls === 'sensitive' ? CLS_SENSITIVE : CLS_NORMAL;
}

/** Builds the executable record of a decoded instruction. */
export function compile(d: DecodedInstruction, into: Insn = new Insn()): Insn {
  const i = into;
  const form = d.form;
  const sem = SEMANTICS[form.mnemonic] ?? (form.cc >= 0 ? ccSemantics(form.mnemonic) : undefined);
  i.form = form;
  i.len = d.length;
  i.op = sem ? sem[0] : Op.UD;
  i.sub = sem ? sem[1] : 0;
  i.cc = form.cc;
  i.cls = classOf(form);
  i.o16 = d.opsize === 16 ? 1 : 0;
  i.a16 = d.adsize === 16 ? 1 : 0;
  i.rep = d.prefixes.rep === 'rep' ? 1 : d.prefixes.rep === 'repne' ? 2 : 0;
  i.k0 = i.k1 = i.k2 = K_NONE;
  i.r0 = i.r1 = i.r2 = i.s0 = i.s1 = i.s2 = 0;
  i.imm = i.imm2 = i.rel = 0;
  i.base = i.index = -1;
  i.scale = i.disp = i.mem = 0;
  i.seg = DS;
  i.size = d.opsize >>> 3;
  const ops = d.operands;
  let immSeen = 0;
  for (let n = 0; n < ops.length; n++) {
    const o = ops[n];
    let k = K_NONE, r = 0;
    const s = operandSize(o);
    switch (o.type) {
      case 'reg':
        r = o.reg.num;
        k = o.reg.cls === 'sreg' ? K_SREG : o.reg.cls === 'creg' ? K_CREG : o.reg.cls === 'dreg' ? K_DREG : K_REG;
        break;
      case 'mem':
        k = K_MEM;
        i.mem = 1;
        i.base = o.base ? o.base.num : -1;
        i.index = o.index ? o.index.num : -1;
        i.scale = o.scale === 1 ? 0 : o.scale === 2 ? 1 : o.scale === 4 ? 2 : 3;
        i.disp = o.disp | 0;
        i.seg = o.segment ? SEG_NUMBER[o.segment] : o.base && (o.base.num === 4 || o.base.num === 5) && o.base.bits !== 8 ? SS : DS;
        // 16-bit addressing: [bp+...] uses SS as well; the decoder names bp as a 16-bit base.
        break;
      case 'imm':
        k = K_IMM;
        if (immSeen++ === 0) i.imm = o.extended >>> 0;
        else i.imm2 = o.extended >>> 0;
        break;
      case 'rel':
        i.rel = o.rel | 0;
        break;
      case 'far':
        i.imm = o.offset >>> 0;
        i.imm2 = o.selector;
        break;
    }
    if (n === 0) { i.k0 = k; i.r0 = r; i.s0 = s; }
    else if (n === 1) { i.k1 = k; i.r1 = r; i.s1 = s; }
    else { i.k2 = k; i.r2 = r; i.s2 = s; }
  }
  // The operation size is the first register/memory operand's, when there is one.
  if (i.k0 === K_REG || i.k0 === K_MEM) i.size = i.s0 || i.size;
  else if (i.k0 === K_NONE && i.k1 === K_NONE) i.size = d.opsize >>> 3;
  refine(i, d);
  i.fast = fastPath(i);
  return i;
}

function fastPath(i: Insn): Fast {
  if (i.cls !== CLS_NORMAL || i.a16 || i.o16 || i.rep) return Fast.NONE;
  const r0 = i.k0 === K_REG && i.s0 === 4, m0 = i.k0 === K_MEM && i.s0 === 4;
  const r1 = i.k1 === K_REG && i.s1 === 4, m1 = i.k1 === K_MEM && i.s1 === 4, i1 = i.k1 === K_IMM;
  const two = i.k2 === K_NONE;
  switch (i.op) {
    case Op.MOV:
      if (!two) return Fast.NONE;
      return r0 && r1 ? Fast.MOV_RR : r0 && i1 ? Fast.MOV_RI : r0 && m1 ? Fast.MOV_RM : m0 && r1 ? Fast.MOV_MR : m0 && i1 ? Fast.MOV_MI : Fast.NONE;
    case Op.ALU:
      return r0 && r1 ? Fast.ALU_RR : r0 && i1 ? Fast.ALU_RI : r0 && m1 ? Fast.ALU_RM : m0 && r1 ? Fast.ALU_MR : m0 && i1 ? Fast.ALU_MI : Fast.NONE;
    case Op.TEST:
      return r0 && r1 ? Fast.TEST_RR : r0 && i1 ? Fast.TEST_RI : Fast.NONE;
    case Op.INC: return r0 ? Fast.INC_R : Fast.NONE;
    case Op.DEC: return r0 ? Fast.DEC_R : Fast.NONE;
    case Op.LEA: return r0 ? Fast.LEA : Fast.NONE;
    case Op.JCC: return Fast.JCC;
    case Op.JMP: return Fast.JMP;
    case Op.CALL: return Fast.CALL;
    case Op.RET: return i.k0 === K_NONE ? Fast.RET : Fast.NONE;
    case Op.PUSH: return r0 ? Fast.PUSH_R : i.k0 === K_IMM && i.size === 4 ? Fast.PUSH_I : Fast.NONE;
    case Op.POP: return r0 ? Fast.POP_R : Fast.NONE;
    case Op.SHIFT: return r0 && i1 && (i.sub === SH_SHL || i.sub === SH_SHR || i.sub === SH_SAR) ? Fast.SHIFT_RI : Fast.NONE;
    default: return Fast.NONE;
  }
}

function ccSemantics(mnemonic: string): [Op, number] | undefined {
  if (mnemonic.startsWith('cmov')) return [Op.CMOV, 0];
  if (mnemonic.startsWith('set')) return [Op.SETCC, 0];
  if (mnemonic.startsWith('j')) return [Op.JCC, 0];
  return undefined;
}

/** Forms whose behaviour differs from their mnemonic's main form. */
function refine(i: Insn, d: DecodedInstruction): void {
  const ops = d.operands;
  const first = ops[0];
  switch (i.op) {
    case Op.MOV:
      if (i.k0 === K_CREG || i.k1 === K_CREG) i.op = Op.MOV_CR;
      else if (i.k0 === K_DREG || i.k1 === K_DREG) i.op = Op.MOV_DR;
      break;
    case Op.JMP:
      if (first?.type === 'far' || first?.kind === 'mfar') i.op = Op.JMP_FAR;
      else if (first && first.type !== 'rel') i.op = Op.JMP_RM;
      break;
    case Op.CALL:
      if (first?.type === 'far' || first?.kind === 'mfar') i.op = Op.CALL_FAR;
      else if (first && first.type !== 'rel') i.op = Op.CALL_RM;
      break;
    case Op.IMUL:
      if (ops.length === 1) i.op = Op.IMUL1;
      else if (ops.length === 2) {
        // imul r, rm: the third operand is the second, the multiplier the first
        i.k2 = i.k1; i.r2 = i.r1; i.s2 = i.s1;
        i.k1 = i.k0; i.r1 = i.r0; i.s1 = i.s0;
      }
      break;
    case Op.PUSH:
      // push imm8 is sign-extended to the operand size; push sreg moves 16 bits
      if (i.k0 === K_IMM) i.size = d.opsize >>> 3;
      else if (i.k0 === K_SREG) i.size = d.opsize >>> 3;
      break;
    case Op.POP:
      if (i.k0 === K_SREG) i.size = d.opsize >>> 3;
      break;
    case Op.RET: case Op.RETF:
      i.size = d.opsize >>> 3;
      break;
    case Op.PUSHA: case Op.POPA: case Op.PUSHF: case Op.POPF: case Op.IRET:
      i.size = i.sub || d.opsize >>> 3;
      break;
    case Op.CBW: case Op.CWD:
      i.size = i.sub;
      break;
    case Op.MOVS: case Op.STOS: case Op.LODS: case Op.CMPS: case Op.SCAS: case Op.INS: case Op.OUTS:
      i.size = i.sub;
      if (d.prefixes.segment) i.seg = SEG_NUMBER[d.prefixes.segment];
      break;
    case Op.XLAT:
      i.seg = d.prefixes.segment ? SEG_NUMBER[d.prefixes.segment] : DS;
      break;
    case Op.ENTER:
      i.size = d.opsize >>> 3;
      break;
  }
}
