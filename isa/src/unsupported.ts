// IA-32 instructions the table (instructions.ts) does not have, by mnemonic, with what
// they are. NASM knows them, so a word like `daa` alone on a line must not quietly become
// a label (nasm's rule for an unknown word): the assembler names it as what it is.

const LONG_MODE_ONLY = 'x86-64 only';

const GROUPS: readonly [string, string][] = [
  ['BCD arithmetic', 'aaa aas aam aad daa das'],
  ['a legacy protection check', 'bound arpl'],
  ['a fast system call; a PV guest enters Xen with int 0x82, and its kernel through the int 0x80 gate of its trap table', 'sysenter sysexit syscall sysret'],
  ['cache and prefetch control', 'clflush clflushopt clwb prefetchnta prefetcht0 prefetcht1 prefetcht2 prefetchw movnti'],
  ['x87 floating point', 'fld fst fstp fild fist fistp fadd faddp fsub fsubp fmul fmulp fdiv fdivp fchs fabs fsqrt fcom fcomp fxch finit fninit fstsw fnstsw fstcw fnstcw fldcw fclex fnclex fwait wait fsave fnsave frstor fxsave fxrstor'
    + ' fld1 fldz fldpi fldl2e fldl2t fldlg2 fldln2 fsin fcos fsincos fptan fpatan f2xm1 fyl2x fyl2xp1 fscale frndint fprem fprem1 fxtract ftst fxam'
    + ' fucom fucomp fucompp fcompp fcomi fcomip fucomi fucomip ficom ficomp fiadd fisub fisubr fimul fidiv fidivr fsubr fsubrp fdivr fdivrp'
    + ' fincstp fdecstp ffree fnop fbld fbstp fldenv fnstenv fstenv fisttp fcmovb fcmove fcmovbe fcmovu fcmovnb fcmovne fcmovnbe fcmovnu'],
  ['SSE/MMX', 'emms movd movq movaps movups movdqa movdqu pxor xorps ldmxcsr stmxcsr xsave xrstor xgetbv xsetbv'],
  ['bit-manipulation extensions (POPCNT, LZCNT, BMI)', 'popcnt lzcnt tzcnt andn bextr blsi blsmsk blsr bzhi pdep pext rorx sarx shlx shrx'],
  [LONG_MODE_ONLY, 'cdqe cqo movsxd swapgs iretq pushfq popfq cmpxchg16b lodsq stosq movsq cmpsq scasq'],
  ['not in the table', 'rdtscp rdpid icebp salc ud0 ud1 ud2a ud2b rsm monitor mwait invpcid vmcall vmmcall clac stac endbr32 endbr64 movbe crc32 rdrand rdseed xbegin xend xabort xtest prefetch'],
];

/** What an IA-32 mnemonic the table does not have is (`xlat`: use its table name). */
export const UNSUPPORTED: ReadonlyMap<string, string> = new Map([
  ...GROUPS.flatMap(([what, names]) => names.split(' ').map((m): [string, string] => [m, what])),
  ['xlat', 'written xlatb here'],
]);

/** Why `mnemonic` (any case) cannot be assembled, or undefined when it is not a known IA-32 instruction. */
export function unsupportedInstruction(mnemonic: string): string | undefined {
  const what = UNSUPPORTED.get(mnemonic.toLowerCase());
  if (what === LONG_MODE_ONLY) return `'${mnemonic}' is an x86-64 instruction: it does not exist in 32-bit code`;
  return what && `'${mnemonic}' is an IA-32 instruction xenolab does not implement (${what})`;
}
