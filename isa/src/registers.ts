// IA-32 register file as the assembler, disassembler and CPU name it.

export type RegisterClass = 'r8' | 'r16' | 'r32' | 'sreg' | 'creg' | 'dreg';

export interface Register {
  readonly name: string;
  readonly cls: RegisterClass;
  /** Encoding number (ModRM reg/rm field, +r opcode offset, sreg number). */
  readonly num: number;
  /** Width in bits. */
  readonly bits: 8 | 16 | 32;
}

const GPR8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
/** Control registers that exist on IA-32 (CR1 is reserved and #UDs). */
const CREG_NUMS = [0, 2, 3, 4] as const;

function build(): Register[] {
  const out: Register[] = [];
  GPR8.forEach((name, num) => out.push({ name, cls: 'r8', num, bits: 8 }));
  GPR16.forEach((name, num) => out.push({ name, cls: 'r16', num, bits: 16 }));
  GPR32.forEach((name, num) => out.push({ name, cls: 'r32', num, bits: 32 }));
  SREG.forEach((name, num) => out.push({ name, cls: 'sreg', num, bits: 16 }));
  for (const num of CREG_NUMS) out.push({ name: `cr${num}`, cls: 'creg', num, bits: 32 });
  for (let num = 0; num < 8; num++) out.push({ name: `dr${num}`, cls: 'dreg', num, bits: 32 });
  return out;
}

export const REGISTERS: readonly Register[] = build();

const BY_NAME = new Map(REGISTERS.map((r) => [r.name, r]));

/** Looks a register up by its (case-insensitive) name. */
export function registerByName(name: string): Register | undefined {
  // Most names are already lower case: try them as written first.
  return BY_NAME.get(name) ?? (name.length <= 3 ? BY_NAME.get(name.toLowerCase()) : undefined);
}

/** The registers of each class by encoding number (ModRM reg/rm field, +r offset); holes are undefined. */
export const REGISTERS_BY_NUMBER: Readonly<Record<RegisterClass, readonly (Register | undefined)[]>> = (() => {
  const out = {} as Record<RegisterClass, (Register | undefined)[]>;
  for (const r of REGISTERS) (out[r.cls] ??= new Array<Register | undefined>(8).fill(undefined))[r.num] = r;
  return out;
})();

export const SREG_NAMES = SREG;
