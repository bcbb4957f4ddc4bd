// Operand kinds of the instruction table. Each kind says what a source operand may be
// and where its value goes in the encoding; the encoder matches operands against kinds
// and the decoder produces operands of these kinds.

export type OperandKind =
  // general registers of one width
  | 'r8' | 'r16' | 'r32'
  // a register or memory of one width (ModRM r/m)
  | 'rm8' | 'rm16' | 'rm32'
  // memory only: any size (lea, lgdt), or of one width
  | 'm' | 'm16' | 'm32' | 'm64'
  // immediates: zero/sign-agnostic of a width, sign-extended byte, the constant 1
  | 'imm8' | 'imm16' | 'imm32' | 'simm8' | 'one'
  // branch targets, encoded relative to the next instruction
  | 'rel8' | 'rel32'
  // fixed registers
  | 'al' | 'ax' | 'eax' | 'cl' | 'dx' | 'cx' | 'ecx'
  | 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs'
  // register classes encoded in ModRM.reg
  | 'sreg' | 'creg' | 'dreg'
  // memory given by a bare 32-bit address (A0-A3 forms)
  | 'moffs8' | 'moffs16' | 'moffs32'
  // far pointer immediate `sel:offset`, and a far pointer in memory (`far [mem]`)
  | 'ptr16:32' | 'mfar';

export const REGISTER_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['r8', 'r16', 'r32']);
export const RM_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['rm8', 'rm16', 'rm32', 'm', 'm16', 'm32', 'm64', 'mfar']);
export const FIXED_REGISTER_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>([
  'al', 'ax', 'eax', 'cl', 'dx', 'cx', 'ecx', 'es', 'cs', 'ss', 'ds', 'fs', 'gs',
]);
export const IMMEDIATE_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['imm8', 'imm16', 'imm32', 'simm8', 'one']);

/** Width in bits an operand kind implies, or 0 when it implies none. */
export function kindBits(kind: OperandKind): 0 | 8 | 16 | 32 | 64 {
  switch (kind) {
    case 'r8': case 'rm8': case 'imm8': case 'simm8': case 'al': case 'cl': case 'moffs8': case 'rel8':
      return 8;
    case 'r16': case 'rm16': case 'm16': case 'imm16': case 'ax': case 'dx': case 'cx': case 'moffs16': case 'sreg':
    case 'es': case 'cs': case 'ss': case 'ds': case 'fs': case 'gs':
      return 16;
    case 'r32': case 'rm32': case 'm32': case 'imm32': case 'eax': case 'ecx': case 'moffs32': case 'creg': case 'dreg': case 'rel32':
      return 32;
    case 'm64':
      return 64;
    default:
      return 0;
  }
}
