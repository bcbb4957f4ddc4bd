// What one decoded instruction does to the general registers and memory, as the analyses
// need it: which 32-bit registers it writes (fully or partly) and reads, whether it sets
// the status flags, the memory operand it stores to, and how control leaves it.

import type { DecodedInstruction, MemoryOperand, Register } from '../../../isa/src/index.js';

/** 32-bit register numbers (ModRM order). */
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const ALL_GPRS = 0xff;
const bit = (r: number) => 1 << r;

/** The 32-bit register a general register operand lives in (ah → eax), or -1. */
export function gpr(reg: Register): number {
  if (reg.cls === 'r32' || reg.cls === 'r16') return reg.num;
  if (reg.cls === 'r8') return reg.num & 3;
  return -1;
}

/** Registers a memory operand's address reads. */
export function addressRegs(m: MemoryOperand): number {
  let mask = 0;
  if (m.base) {
    const r = gpr(m.base);
    if (r >= 0) mask |= bit(r);
  }
  if (m.index) {
    const r = gpr(m.index);
    if (r >= 0) mask |= bit(r);
  }
  return mask;
}

/** Mnemonics whose first operand is only read (never written). */
const READS_FIRST = new Set([
  'cmp', 'test', 'push', 'bt', 'jmp', 'call', 'int', 'out', 'lgdt', 'lidt', 'lldt', 'ltr', 'lmsw', 'invlpg',
  'verr', 'verw', 'nop', 'ret', 'retn', 'retf', 'enter', 'mul', 'div', 'idiv', 'loop', 'loope', 'loopz', 'loopne',
  'loopnz', 'jecxz', 'jcxz',
]);

/** Mnemonics that leave the status flags alone. */
const KEEPS_FLAGS = new Set([
  'mov', 'movzx', 'movsx', 'lea', 'xchg', 'push', 'pop', 'pusha', 'pushad', 'pushaw', 'pushf', 'pushfd', 'pushfw',
  'bswap', 'not', 'jmp', 'call', 'ret', 'retn', 'retf', 'loop', 'loope', 'loopz', 'loopne', 'loopnz', 'jecxz', 'jcxz',
  'lds', 'les', 'lfs', 'lgs', 'lss', 'cbw', 'cwde', 'cwd', 'cdq', 'lahf', 'xlatb', 'nop', 'pause', 'movsb', 'movsw',
  'movsd', 'stosb', 'stosw', 'stosd', 'lodsb', 'lodsw', 'lodsd', 'insb', 'insw', 'insd', 'outsb', 'outsw', 'outsd',
  'in', 'out', 'enter', 'leave', 'cpuid', 'rdtsc', 'rdmsr', 'wrmsr', 'rdpmc', 'lfence', 'mfence', 'sfence', 'hlt',
  'int', 'int3', 'int1', 'into', 'cld', 'std', 'cli', 'sti', 'invlpg', 'wbinvd', 'invd', 'clts', 'lgdt', 'lidt', 'sgdt',
  'sidt', 'sldt', 'str', 'smsw', 'lmsw', 'ltr', 'lldt', 'ud2',
]);

const STRING_WRITES: Readonly<Record<string, number>> = {
  movsb: bit(ESI) | bit(EDI), movsw: bit(ESI) | bit(EDI), movsd: bit(ESI) | bit(EDI),
  stosb: bit(EDI), stosw: bit(EDI), stosd: bit(EDI),
  lodsb: bit(ESI) | bit(EAX), lodsw: bit(ESI) | bit(EAX), lodsd: bit(ESI) | bit(EAX),
  cmpsb: bit(ESI) | bit(EDI), cmpsw: bit(ESI) | bit(EDI), cmpsd: bit(ESI) | bit(EDI),
  scasb: bit(EDI), scasw: bit(EDI), scasd: bit(EDI),
  insb: bit(EDI), insw: bit(EDI), insd: bit(EDI),
  outsb: bit(ESI), outsw: bit(ESI), outsd: bit(ESI),
};

const STRING_READS: Readonly<Record<string, number>> = {
  movsb: bit(ESI) | bit(EDI), movsw: bit(ESI) | bit(EDI), movsd: bit(ESI) | bit(EDI),
  stosb: bit(EDI) | bit(EAX), stosw: bit(EDI) | bit(EAX), stosd: bit(EDI) | bit(EAX),
  lodsb: bit(ESI), lodsw: bit(ESI), lodsd: bit(ESI),
  cmpsb: bit(ESI) | bit(EDI), cmpsw: bit(ESI) | bit(EDI), cmpsd: bit(ESI) | bit(EDI),
  scasb: bit(EDI) | bit(EAX), scasw: bit(EDI) | bit(EAX), scasd: bit(EDI) | bit(EAX),
  insb: bit(EDI) | bit(EDX), insw: bit(EDI) | bit(EDX), insd: bit(EDI) | bit(EDX),
  outsb: bit(ESI) | bit(EDX), outsw: bit(ESI) | bit(EDX), outsd: bit(ESI) | bit(EDX),
};

const IMPLICIT_WRITES: Readonly<Record<string, number>> = {
  mul: bit(EAX) | bit(EDX), div: bit(EAX) | bit(EDX), idiv: bit(EAX) | bit(EDX),
  cdq: bit(EDX), cwd: bit(EDX), cbw: bit(EAX), cwde: bit(EAX),
  cpuid: bit(EAX) | bit(EBX) | bit(ECX) | bit(EDX), rdtsc: bit(EAX) | bit(EDX), rdmsr: bit(EAX) | bit(EDX),
  rdpmc: bit(EAX) | bit(EDX), xlatb: bit(EAX), lahf: bit(EAX), cmpxchg: bit(EAX), cmpxchg8b: bit(EAX) | bit(EDX),
  loop: bit(ECX), loope: bit(ECX), loopz: bit(ECX), loopne: bit(ECX), loopnz: bit(ECX),
  push: bit(ESP), pop: bit(ESP), pushf: bit(ESP), pushfd: bit(ESP), pushfw: bit(ESP), popf: bit(ESP), popfd: bit(ESP),
  popfw: bit(ESP), pusha: bit(ESP), pushad: bit(ESP), pushaw: bit(ESP),
  popa: ALL_GPRS, popad: ALL_GPRS, popaw: ALL_GPRS,
  call: bit(ESP), ret: bit(ESP), retn: bit(ESP), retf: bit(ESP), iret: bit(ESP), iretd: bit(ESP), iretw: bit(ESP),
  enter: bit(ESP) | bit(EBP), leave: bit(ESP) | bit(EBP),
};

const IMPLICIT_READS: Readonly<Record<string, number>> = {
  mul: bit(EAX), imul: bit(EAX), div: bit(EAX) | bit(EDX), idiv: bit(EAX) | bit(EDX), cdq: bit(EAX), cwd: bit(EAX),
  cbw: bit(EAX), cwde: bit(EAX), cpuid: bit(EAX) | bit(ECX), rdmsr: bit(ECX), wrmsr: bit(EAX) | bit(ECX) | bit(EDX),
  rdpmc: bit(ECX), xlatb: bit(EAX) | bit(EBX), sahf: bit(EAX), cmpxchg: bit(EAX),
  cmpxchg8b: bit(EAX) | bit(EBX) | bit(ECX) | bit(EDX),
  loop: bit(ECX), loope: bit(ECX), loopz: bit(ECX), loopne: bit(ECX), loopnz: bit(ECX), jecxz: bit(ECX), jcxz: bit(ECX),
  push: bit(ESP), pop: bit(ESP), pushf: bit(ESP), pushfd: bit(ESP), pushfw: bit(ESP), popf: bit(ESP), popfd: bit(ESP),
  popfw: bit(ESP), pusha: ALL_GPRS, pushad: ALL_GPRS, pushaw: ALL_GPRS, popa: bit(ESP), popad: bit(ESP), popaw: bit(ESP),
  call: bit(ESP), ret: bit(ESP), retn: bit(ESP), retf: bit(ESP), iret: bit(ESP), iretd: bit(ESP), iretw: bit(ESP),
  enter: bit(ESP) | bit(EBP), leave: bit(EBP), in: bit(EDX), out: bit(EAX) | bit(EDX),
};

export interface Effects {
  /** 32-bit registers written (wholly or in part). */
  writes: number;
  /** 32-bit registers read (operands, addresses, implicit operands). */
  reads: number;
  /** The memory operand it stores to, or 'string' for an implicit [edi] store (stos, movs, ins). */
  store: MemoryOperand | 'string' | null;
  setsFlags: boolean;
}

/** What a form does whatever its operands are. */
interface FormEffects {
  writes: number;
  reads: number;
  stringStore: boolean;
  firstWritten: boolean;
  othersWritten: boolean;
  /** The first operand, when written, is also read (add, inc, ...; not mov, lea, pop, ...). */
  readsDest: boolean;
  sameRegZero: boolean;
  setsFlags: boolean;
}

const FORM_EFFECTS: (FormEffects | undefined)[] = [];
const WRITE_ONLY_DEST = new Set(['mov', 'movzx', 'movsx', 'lea', 'pop', 'in', 'bsf', 'bsr', 'lds', 'les', 'lfs', 'lgs', 'lss', 'sldt', 'str', 'smsw', 'lar', 'lsl']);

function formEffects(insn: DecodedInstruction): FormEffects {
  const form = insn.form;
  let f = FORM_EFFECTS[form.index];
  if (f) return f;
  const m = form.mnemonic;
  const n = form.operands.length;
  f = {
    writes: (IMPLICIT_WRITES[m] ?? 0) | (STRING_WRITES[m] ?? 0) | (m === 'imul' && n === 1 ? bit(EAX) | bit(EDX) : 0),
    reads: (IMPLICIT_READS[m] ?? 0) | (STRING_READS[m] ?? 0),
    stringStore: m in STRING_WRITES && (m.startsWith('stos') || m.startsWith('movs') || m.startsWith('ins')),
    firstWritten: n > 0 && !READS_FIRST.has(m) && !m.startsWith('j') && !(m === 'imul' && n === 1),
    othersWritten: m === 'xchg' || m === 'xadd',
    readsDest: !(WRITE_ONLY_DEST.has(m) || m.startsWith('set')),
    sameRegZero: m === 'xor' || m === 'sub',
    setsFlags: !KEEPS_FLAGS.has(m) && !m.startsWith('j') && !m.startsWith('set') && !m.startsWith('cmov'),
  };
  FORM_EFFECTS[form.index] = f;
  return f;
}

/** Effects of instructions without a memory operand, shared by form, registers and rep prefix. */
const SHARED = new Map<number, Effects>();

/** Computed once per instruction (programs keep it on each instruction as `fx`). */
export function effects(insn: DecodedInstruction): Effects {
  const f = formEffects(insn);
  const ops = insn.operands;
  const rep = insn.prefixes.rep !== null && insn.form.mnemonic in STRING_WRITES;
  let key = insn.form.index * 2 + (rep ? 1 : 0);
  for (const op of ops) {
    if (op.type === 'mem') {
      key = -1;
      break;
    }
    key = key * 16 + (op.type === 'reg' ? op.reg.num + 8 : 0);
  }
  if (key >= 0 && key <= Number.MAX_SAFE_INTEGER) {
    const hit = SHARED.get(key);
    if (hit) return hit;
  }
  let writes = f.writes;
  let reads = f.reads;
  let store: Effects['store'] = f.stringStore ? 'string' : null;
  if (rep) {
    writes |= bit(ECX);
    reads |= bit(ECX);
  }
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const written = i === 0 ? f.firstWritten : f.othersWritten;
    if (op.type === 'reg') {
      const r = gpr(op.reg);
      if (r < 0) continue;
      if (written) writes |= bit(r);
      if (!written || i > 0 || f.readsDest) reads |= bit(r);
    } else if (op.type === 'mem') {
      reads |= addressRegs(op);
      if (written && insn.form.mnemonic !== 'lea') store = op;
    }
  }
  // xor r, r and sub r, r do not depend on r
  if (f.sameRegZero && ops.length === 2 && ops[0].type === 'reg' && ops[1].type === 'reg' && ops[0].reg === ops[1].reg) {
    reads &= ~bit(gpr(ops[0].reg));
  }
  const out = { writes, reads, store, setsFlags: f.setsFlags };
  if (key >= 0 && key <= Number.MAX_SAFE_INTEGER && SHARED.size < 100_000) SHARED.set(key, out);
  return out;
}

/** How control leaves an instruction. */
export type Flow =
  | { kind: 'next' }
  /** Unconditional jump; target null when indirect. */
  | { kind: 'jump'; target: number | null }
  /** Conditional branch (jcc, loop*, jecxz): the target or the next instruction. */
  | { kind: 'branch'; target: number }
  /** Near call; target null when indirect. */
  | { kind: 'call'; target: number | null }
  | { kind: 'return' }
  /** Never continues (ud2, far jumps). */
  | { kind: 'stop' };

export const NEXT: Flow = Object.freeze({ kind: 'next' });
const RETURN: Flow = Object.freeze({ kind: 'return' });
const STOP: Flow = Object.freeze({ kind: 'stop' });

export function flowOf(insn: DecodedInstruction): Flow {
  const m = insn.form.mnemonic;
  const op = insn.operands[0];
  if (m === 'jmp') return op && op.type === 'rel' ? { kind: 'jump', target: op.target >>> 0 } : op && op.type === 'far' ? STOP : { kind: 'jump', target: null };
  if (m === 'call') return op && op.type === 'rel' ? { kind: 'call', target: op.target >>> 0 } : { kind: 'call', target: null };
  if ((insn.form.cc >= 0 && m.startsWith('j')) || m.startsWith('loop') || m === 'jecxz' || m === 'jcxz') {
    return op && op.type === 'rel' ? { kind: 'branch', target: op.target >>> 0 } : NEXT;
  }
  if (m === 'ret' || m === 'retn' || m === 'retf' || m === 'iret' || m === 'iretd' || m === 'iretw') return RETURN;
  if (m === 'ud2') return STOP;
  return NEXT;
}
