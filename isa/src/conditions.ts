// Condition codes shared by Jcc, SETcc and CMOVcc: the low nibble of the opcode.

export interface Condition {
  /** Opcode nibble (tttn). */
  readonly code: number;
  /** Canonical suffix, as objdump and the Intel SDM print it. */
  readonly name: string;
  /** Other suffixes NASM accepts for the same code. */
  readonly aliases: readonly string[];
  /** The EFLAGS test, for docs. */
  readonly test: string;
}

export const CONDITIONS: readonly Condition[] = [
  { code: 0x0, name: 'o', aliases: [], test: 'OF=1' },
  { code: 0x1, name: 'no', aliases: [], test: 'OF=0' },
  { code: 0x2, name: 'b', aliases: ['c', 'nae'], test: 'CF=1' },
  { code: 0x3, name: 'ae', aliases: ['nb', 'nc'], test: 'CF=0' },
  { code: 0x4, name: 'e', aliases: ['z'], test: 'ZF=1' },
  { code: 0x5, name: 'ne', aliases: ['nz'], test: 'ZF=0' },
  { code: 0x6, name: 'be', aliases: ['na'], test: 'CF=1 or ZF=1' },
  { code: 0x7, name: 'a', aliases: ['nbe'], test: 'CF=0 and ZF=0' },
  { code: 0x8, name: 's', aliases: [], test: 'SF=1' },
  { code: 0x9, name: 'ns', aliases: [], test: 'SF=0' },
  { code: 0xa, name: 'p', aliases: ['pe'], test: 'PF=1' },
  { code: 0xb, name: 'np', aliases: ['po'], test: 'PF=0' },
  { code: 0xc, name: 'l', aliases: ['nge'], test: 'SF≠OF' },
  { code: 0xd, name: 'ge', aliases: ['nl'], test: 'SF=OF' },
  { code: 0xe, name: 'le', aliases: ['ng'], test: 'ZF=1 or SF≠OF' },
  { code: 0xf, name: 'g', aliases: ['nle'], test: 'ZF=0 and SF=OF' },
];
