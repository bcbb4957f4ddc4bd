// The IA-32 instruction table: the single source of truth for the encoder, the decoder,
// the CPU and the editor's hover docs and lints.
//
// Each *form* is one encoding of one mnemonic, written as a row
//     mnemonic  operands  encoding  [!flags]
// in the notation of the Intel SDM opcode tables:
//   operands  comma-separated OperandKinds; `v` stands for both 16 and 32 bits
//             (rmv, rv, immv, accv, moffsv expand to rm16/rm32, r16/r32, ...)
//   encoding  o16/o32 (operand-size attribute: o16 emits 0x66), a16/a32 (address size),
//             hex opcode bytes, +r (register in the low opcode bits), +cc (condition code),
//             /r or /0../7 (ModRM), ib iw id (immediates), rb rd (relative), mo (moffs32
//             address), pd (far pointer: offset32 then selector16); `iv` and `ov` follow `v`.
//   flags     !decode (accepted by the decoder, never chosen by the encoder),
//             !dup (the register operand is also the r/m operand: imul r, imm),
//             !nosize (an unsized memory operand defaults to the operand size),
//             !priv / !sens (class override for this form only)
// Where two forms encode the same operands in the same number of bytes the encoder takes
// the first, which is the order NASM prefers.

import { CONDITIONS } from './conditions.js';
import { SREG_NAMES } from './registers.js';
import { REGISTER_KINDS, RM_KINDS, type OperandKind } from './operands.js';

/** How an instruction behaves when a paravirtualized guest kernel runs it in ring 1. */
export type PrivilegeClass =
  /** #GP(0) at CPL>0 (or CPL>IOPL for the I/O and interrupt-flag instructions). */
  | 'privileged'
  /** Runs at CPL>0 without a trap but behaves differently or leaks host state. */
  | 'sensitive'
  | 'normal';

export type InstructionGroup =
  | 'data' | 'arith' | 'logic' | 'shift' | 'bit' | 'control' | 'string' | 'flags'
  | 'atomic' | 'system' | 'io' | 'misc';

export interface MnemonicInfo {
  readonly group: InstructionGroup;
  readonly cls: PrivilegeClass;
  readonly doc: string;
  /** For privileged and sensitive instructions: what a PV guest does instead. */
  readonly pv?: string;
  /** The instruction may take a `lock` prefix (with a memory destination). */
  readonly lockable?: boolean;
  /** Which repeat prefix it takes: `rep` (movs, stos, ...) or `repe`/`repne` (cmps, scas). */
  readonly rep?: 'rep' | 'repe';
  /** Privileged only when CPL > IOPL (in/out/ins/outs/cli/sti). */
  readonly iopl?: boolean;
  /** For privileged instructions: what Xen does when a PV kernel runs it in ring 1, where it traps (modern Xen, pv/emul-priv-op.c). */
  readonly xen?: string;
}

export interface InstructionForm {
  readonly mnemonic: string;
  readonly operands: readonly OperandKind[];
  /** Operand-size attribute: 16 means the 0x66 prefix in 32-bit code. 0: not size-specific. */
  readonly opsize: 0 | 16 | 32;
  /** Address-size attribute (jcxz/jecxz); 0 when not address-size specific. */
  readonly adsize: 0 | 16 | 32;
  /** Opcode bytes (without +r / +cc adjustment; mandatory prefix included, e.g. pause). */
  readonly opcode: readonly number[];
  /** ModRM: 'r' for /r, a digit 0-7 for /digit, undefined for none. */
  readonly modrm: 'r' | number | undefined;
  /** Register operand index added to the last opcode byte (+r), or -1. */
  readonly plusReg: number;
  /** Condition code added to the last opcode byte (+cc), or -1. */
  readonly cc: number;
  /** Immediate / relative / address fields after ModRM, in order, with their widths in bytes. */
  readonly tail: readonly TailField[];
  readonly cls: PrivilegeClass;
  readonly decodeOnly: boolean;
  readonly dup: boolean;
  readonly noSize: boolean;
  /** Operand encoded in ModRM.reg (-1: none, or the /digit is there). */
  readonly regOperand: number;
  /** Operand encoded in ModRM.r/m (-1: no ModRM); for `dup` forms the same as regOperand. */
  readonly rmOperand: number;
  /** Index of this form in FORMS. */
  readonly index: number;
}

export type TailField =
  | { kind: 'imm'; bytes: 1 | 2 | 4 }
  | { kind: 'rel'; bytes: 1 | 4 }
  | { kind: 'moffs' }
  | { kind: 'farptr' };

const ROWS = String.raw`
mov      rm8,r8          88 /r
mov      rmv,rv          ov 89 /r
mov      r8,rm8          8a /r
mov      rv,rmv          ov 8b /r
mov      r16,sreg        o16 8c /r
mov      r32,sreg        o32 8c /r
mov      m16,sreg        8c /r
mov      sreg,r16        8e /r
mov      sreg,r32        8e /r
mov      sreg,m16        8e /r
mov      al,moffs8       a0 mo
mov      accv,moffsv     ov a1 mo
mov      moffs8,al       a2 mo
mov      moffsv,accv     ov a3 mo
mov      r8,imm8         b0+r ib
mov      rv,immv         ov b8+r iv
mov      rm8,imm8        c6 /0 ib
mov      rmv,immv        ov c7 /0 iv
mov      r32,creg        0f 20 /r   !priv
mov      creg,r32        0f 22 /r   !priv
mov      r32,dreg        0f 21 /r   !priv
mov      dreg,r32        0f 23 /r   !priv
movzx    rv,rm8          ov 0f b6 /r
movzx    r32,rm16        o32 0f b7 /r
movsx    rv,rm8          ov 0f be /r
movsx    r32,rm16        o32 0f bf /r
lea      rv,m            ov 8d /r
lss      rv,m            ov 0f b2 /r
lfs      rv,m            ov 0f b4 /r
lgs      rv,m            ov 0f b5 /r
lds      rv,m            ov c5 /r
les      rv,m            ov c4 /r
xchg     accv,rv         ov 90+r
xchg     rv,accv         ov 90+r
xchg     r8,rm8          86 /r
xchg     rm8,r8          86 /r
xchg     rv,rmv          ov 87 /r
xchg     rmv,rv          ov 87 /r
push     rv              ov 50+r
push     rmv             ov ff /6
push     simm8           o32 6a ib
push     imm32           o32 68 id
push     simm8           o16 6a ib
push     imm16           o16 68 iw
push     es              06
push     cs              0e
push     ss              16
push     ds              1e
push     fs              0f a0
push     gs              0f a8
pop      rv              ov 58+r
pop      rmv             ov 8f /0
pop      es              07
pop      ss              17
pop      ds              1f
pop      fs              0f a1
pop      gs              0f a9
pusha    -               60
pushad   -               o32 60
pushaw   -               o16 60
popa     -               61
popad    -               o32 61
popaw    -               o16 61
pushf    -               9c         !sens
pushfd   -               o32 9c     !sens
pushfw   -               o16 9c     !sens
popf     -               9d         !sens
popfd    -               o32 9d     !sens
popfw    -               o16 9d     !sens
bswap    r32             o32 0f c8+r
cmov$cc  rv,rmv          ov 0f 40+cc /r
set$cc   rm8             0f 90+cc /0
cbw      -               o16 98
cwde     -               o32 98
cwd      -               o16 99
cdq      -               o32 99
lahf     -               9f
sahf     -               9e
xlatb    -               d7
${alu('add', 0x00, 0)}
${alu('or', 0x08, 1)}
${alu('adc', 0x10, 2)}
${alu('sbb', 0x18, 3)}
${alu('and', 0x20, 4)}
${alu('sub', 0x28, 5)}
${alu('xor', 0x30, 6)}
${alu('cmp', 0x38, 7)}
inc      rv              ov 40+r
inc      rm8             fe /0
inc      rmv             ov ff /0
dec      rv              ov 48+r
dec      rm8             fe /1
dec      rmv             ov ff /1
${unary('not', 2)}
${unary('neg', 3)}
${unary('mul', 4)}
${unary('imul', 5)}
${unary('div', 6)}
${unary('idiv', 7)}
imul     rv,rmv          ov 0f af /r
imul     rv,rmv,simm8    ov 6b /r ib
imul     rv,rmv,immv     ov 69 /r iv
imul     rv,simm8        ov 6b /r ib   !dup
imul     rv,immv         ov 69 /r iv   !dup
test     rm8,r8          84 /r
test     rmv,rv          ov 85 /r
test     r8,rm8          84 /r
test     rv,rmv          ov 85 /r
test     al,imm8         a8 ib
test     accv,immv       ov a9 iv
test     rm8,imm8        f6 /0 ib
test     rmv,immv        ov f7 /0 iv
test     rm8,imm8        f6 /1 ib   !decode
test     rmv,immv        ov f7 /1 iv !decode
xadd     rm8,r8          0f c0 /r
xadd     rmv,rv          ov 0f c1 /r
cmpxchg  rm8,r8          0f b0 /r
cmpxchg  rmv,rv          ov 0f b1 /r
cmpxchg8b m64            0f c7 /1
${shift('rol', 0)}
${shift('ror', 1)}
${shift('rcl', 2)}
${shift('rcr', 3)}
${shift('shl', 4)}
${shift('sal', 4)}
${shift('shr', 5)}
${shift('sal', 6, '!decode')}
${shift('sar', 7)}
shld     rmv,rv,imm8     ov 0f a4 /r ib
shld     rmv,rv,cl       ov 0f a5 /r
shrd     rmv,rv,imm8     ov 0f ac /r ib
shrd     rmv,rv,cl       ov 0f ad /r
bt       rmv,rv          ov 0f a3 /r
bt       rmv,imm8        ov 0f ba /4 ib
bts      rmv,rv          ov 0f ab /r
bts      rmv,imm8        ov 0f ba /5 ib
btr      rmv,rv          ov 0f b3 /r
btr      rmv,imm8        ov 0f ba /6 ib
btc      rmv,rv          ov 0f bb /r
btc      rmv,imm8        ov 0f ba /7 ib
bsf      rv,rmv          ov 0f bc /r
bsr      rv,rmv          ov 0f bd /r
jmp      rel8            eb rb
jmp      rel32           e9 rd
jmp      rm32            ff /4      !nosize
jmp      rm16            o16 ff /4  !decode
jmp      ptr16:32        ea pd
jmp      mfar            ff /5
j$cc     rel8            70+cc rb
j$cc     rel32           0f 80+cc rd
jecxz    rel8            a32 e3 rb
jcxz     rel8            a16 e3 rb
loop     rel8            e2 rb
loope    rel8            e1 rb
loopz    rel8            e1 rb
loopne   rel8            e0 rb
loopnz   rel8            e0 rb
loop     rel8,cx         a16 e2 rb
loop     rel8,ecx        a32 e2 rb
loope    rel8,cx         a16 e1 rb
loope    rel8,ecx        a32 e1 rb
loopz    rel8,cx         a16 e1 rb
loopz    rel8,ecx        a32 e1 rb
loopne   rel8,cx         a16 e0 rb
loopne   rel8,ecx        a32 e0 rb
loopnz   rel8,cx         a16 e0 rb
loopnz   rel8,ecx        a32 e0 rb
call     rel32           e8 rd
call     rm32            ff /2      !nosize
call     rm16            o16 ff /2  !decode
call     ptr16:32        9a pd
call     mfar            ff /3
ret      -               c3
ret      imm16           c2 iw
retn     -               c3
retn     imm16           c2 iw
retf     -               cb
retf     imm16           ca iw
int      imm8            cd ib
int3     -               cc
int1     -               f1
into     -               ce
iret     -               cf
iretd    -               o32 cf
iretw    -               o16 cf
enter    imm16,imm8      c8 iw ib
leave    -               c9
movsb    -               a4
movsw    -               o16 a5
movsd    -               o32 a5
stosb    -               aa
stosw    -               o16 ab
stosd    -               o32 ab
lodsb    -               ac
lodsw    -               o16 ad
lodsd    -               o32 ad
cmpsb    -               a6
cmpsw    -               o16 a7
cmpsd    -               o32 a7
scasb    -               ae
scasw    -               o16 af
scasd    -               o32 af
insb     -               6c
insw     -               o16 6d
insd     -               o32 6d
outsb    -               6e
outsw    -               o16 6f
outsd    -               o32 6f
clc      -               f8
stc      -               f9
cmc      -               f5
cld      -               fc
std      -               fd
cli      -               fa
sti      -               fb
nop      -               90
nop      rmv             ov 0f 1f /0
pause    -               f3 90
cpuid    -               0f a2
rdtsc    -               0f 31
rdpmc    -               0f 33
ud2      -               0f 0b
lfence   -               0f ae e8
mfence   -               0f ae f0
sfence   -               0f ae f8
hlt      -               f4
lgdt     m               0f 01 /2
lidt     m               0f 01 /3
sgdt     m               0f 01 /0
sidt     m               0f 01 /1
lldt     rm16            0f 00 /2
lldt     r32             0f 00 /2
sldt     m16             0f 00 /0
sldt     r16             o16 0f 00 /0
sldt     r32             o32 0f 00 /0
ltr      rm16            0f 00 /3
ltr      r32             0f 00 /3
str      m16             0f 00 /1
str      r16             o16 0f 00 /1
str      r32             o32 0f 00 /1
smsw     m16             0f 01 /4
smsw     r16             o16 0f 01 /4
smsw     r32             o32 0f 01 /4
lmsw     rm16            0f 01 /6
lmsw     r32             0f 01 /6
lar      r16,r16         o16 0f 02 /r
lar      r16,r32         o16 0f 02 /r
lar      r32,r32         o32 0f 02 /r
lar      r32,r16         o32 0f 02 /r
lar      rv,m16          ov 0f 02 /r
lsl      r16,r16         o16 0f 03 /r
lsl      r16,r32         o16 0f 03 /r
lsl      r32,r32         o32 0f 03 /r
lsl      r32,r16         o32 0f 03 /r
lsl      rv,m16          ov 0f 03 /r
verr     rm16            0f 00 /4
verw     rm16            0f 00 /5
clts     -               0f 06
invlpg   m               0f 01 /7
invd     -               0f 08
wbinvd   -               0f 09
rdmsr    -               0f 32
wrmsr    -               0f 30
in       al,imm8         e4 ib
in       accv,imm8       ov e5 ib
in       al,dx           ec
in       accv,dx         ov ed
out      imm8,al         e6 ib
out      imm8,accv       ov e7 ib
out      dx,al           ee
out      dx,accv         ov ef
`;

function alu(m: string, base: number, digit: number): string {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return [
    `${m} rm8,r8 ${h(base)} /r`,
    `${m} rmv,rv ov ${h(base + 1)} /r`,
    `${m} r8,rm8 ${h(base + 2)} /r`,
    `${m} rv,rmv ov ${h(base + 3)} /r`,
    `${m} al,imm8 ${h(base + 4)} ib`,
    // NASM prefers 83 /digit ib over the accumulator form when both are 4 bytes (ax, imm)
    `${m} rmv,simm8 ov 83 /${digit} ib`,
    `${m} accv,immv ov ${h(base + 5)} iv`,
    `${m} rm8,imm8 80 /${digit} ib`,
    `${m} rmv,immv ov 81 /${digit} iv`,
    `${m} rm8,imm8 82 /${digit} ib !decode`,
  ].join('\n');
}

function unary(m: string, digit: number): string {
  return `${m} rm8 f6 /${digit}\n${m} rmv ov f7 /${digit}`;
}

function shift(m: string, digit: number, flags = ''): string {
  return [
    `${m} rm8,one d0 /${digit} ${flags}`,
    `${m} rm8,cl d2 /${digit} ${flags}`,
    `${m} rm8,imm8 c0 /${digit} ib ${flags}`,
    `${m} rmv,one ov d1 /${digit} ${flags}`,
    `${m} rmv,cl ov d3 /${digit} ${flags}`,
    `${m} rmv,imm8 ov c1 /${digit} ib ${flags}`,
  ].join('\n');
}

const ALU_DOC: Record<string, string> = {
  add: 'Add source to destination.',
  or: 'Bitwise inclusive OR.',
  adc: 'Add with carry: destination + source + CF.',
  sbb: 'Subtract with borrow: destination - (source + CF).',
  and: 'Bitwise AND.',
  sub: 'Subtract source from destination.',
  xor: 'Bitwise exclusive OR.',
  cmp: 'Compare: subtract without storing, setting flags.',
};

const CC_DOC: Record<string, string> = {
  'j': 'Jump if condition',
  'set': 'Set byte to 1 if condition, else 0:',
  'cmov': 'Move if condition',
};

const EVTCHN_MASK = 'vcpu_info.evtchn_upcall_mask (byte 1 of this vCPU\'s vcpu_info in shared_info)';

/** Docs and classification per mnemonic. Condition-code families are filled in below. */
const INFO: Record<string, MnemonicInfo> = {
  mov: { group: 'data', cls: 'normal', doc: 'Move data between registers, memory and immediates; to/from control and debug registers it is privileged.', pv: 'CR3 writes: mmuext_op MMUEXT_NEW_BASEPTR; CR0.TS: fpu_taskswitch; debug registers: set_debugreg/get_debugreg; CR2 is read from vcpu_info.arch.cr2.' },
  movzx: { group: 'data', cls: 'normal', doc: 'Move with zero-extension.' },
  movsx: { group: 'data', cls: 'normal', doc: 'Move with sign-extension.' },
  lea: { group: 'data', cls: 'normal', doc: 'Load effective address (computes the address, does not access memory).' },
  lss: { group: 'data', cls: 'normal', doc: 'Load a far pointer (offset, then a 16-bit selector) into SS and a register; sets the stack atomically (lss esp, [stack_start]).' },
  lfs: { group: 'data', cls: 'normal', doc: 'Load a far pointer (offset, then a 16-bit selector) into FS and a register.' },
  lgs: { group: 'data', cls: 'normal', doc: 'Load a far pointer (offset, then a 16-bit selector) into GS and a register.' },
  lds: { group: 'data', cls: 'normal', doc: 'Load a far pointer (offset, then a 16-bit selector) into DS and a register.' },
  les: { group: 'data', cls: 'normal', doc: 'Load a far pointer (offset, then a 16-bit selector) into ES and a register.' },
  xchg: { group: 'atomic', cls: 'normal', doc: 'Exchange operands; with a memory operand it is implicitly locked (atomic).', lockable: true },
  push: { group: 'data', cls: 'normal', doc: 'Push onto the stack (ESP -= size, then store).' },
  pop: { group: 'data', cls: 'normal', doc: 'Pop from the stack (load, then ESP += size).' },
  pusha: { group: 'data', cls: 'normal', doc: 'Push all general registers (EAX, ECX, EDX, EBX, original ESP, EBP, ESI, EDI).' },
  pushad: { group: 'data', cls: 'normal', doc: 'Push all 32-bit general registers.' },
  pushaw: { group: 'data', cls: 'normal', doc: 'Push all 16-bit general registers.' },
  popa: { group: 'data', cls: 'normal', doc: 'Pop all general registers (the saved ESP is discarded).' },
  popad: { group: 'data', cls: 'normal', doc: 'Pop all 32-bit general registers.' },
  popaw: { group: 'data', cls: 'normal', doc: 'Pop all 16-bit general registers.' },
  pushf: { group: 'flags', cls: 'sensitive', doc: 'Push EFLAGS. In ring 1 it shows the real IF and IOPL, not the guest\'s virtual interrupt state.', pv: `Read the virtual interrupt flag from ${EVTCHN_MASK}.` },
  pushfd: { group: 'flags', cls: 'sensitive', doc: 'Push EFLAGS (32-bit). In ring 1 it shows the real IF, not the virtual one.', pv: `Read the virtual interrupt flag from ${EVTCHN_MASK}.` },
  pushfw: { group: 'flags', cls: 'sensitive', doc: 'Push FLAGS (16-bit). In ring 1 it shows the real IF, not the virtual one.', pv: `Read the virtual interrupt flag from ${EVTCHN_MASK}.` },
  popf: { group: 'flags', cls: 'sensitive', doc: 'Pop EFLAGS. In ring 1 changes to IF and IOPL are silently ignored: it cannot disable or enable interrupts.', pv: `Restore the virtual interrupt flag by writing ${EVTCHN_MASK}, then check evtchn_upcall_pending.` },
  popfd: { group: 'flags', cls: 'sensitive', doc: 'Pop EFLAGS (32-bit). In ring 1 changes to IF and IOPL are silently ignored.', pv: `Restore the virtual interrupt flag by writing ${EVTCHN_MASK}, then check evtchn_upcall_pending.` },
  popfw: { group: 'flags', cls: 'sensitive', doc: 'Pop FLAGS (16-bit). In ring 1 changes to IF and IOPL are silently ignored.', pv: `Restore the virtual interrupt flag by writing ${EVTCHN_MASK}.` },
  bswap: { group: 'data', cls: 'normal', doc: 'Reverse the byte order of a 32-bit register.' },
  cbw: { group: 'data', cls: 'normal', doc: 'Sign-extend AL into AX.' },
  cwde: { group: 'data', cls: 'normal', doc: 'Sign-extend AX into EAX.' },
  cwd: { group: 'data', cls: 'normal', doc: 'Sign-extend AX into DX:AX.' },
  cdq: { group: 'data', cls: 'normal', doc: 'Sign-extend EAX into EDX:EAX.' },
  lahf: { group: 'flags', cls: 'normal', doc: 'Load SF, ZF, AF, PF, CF into AH.' },
  sahf: { group: 'flags', cls: 'normal', doc: 'Store AH into SF, ZF, AF, PF, CF.' },
  xlatb: { group: 'data', cls: 'normal', doc: 'Table look-up: AL = [EBX + AL].' },
  inc: { group: 'arith', cls: 'normal', doc: 'Increment by 1 (CF unchanged).', lockable: true },
  dec: { group: 'arith', cls: 'normal', doc: 'Decrement by 1 (CF unchanged).', lockable: true },
  not: { group: 'logic', cls: 'normal', doc: 'One\'s complement (flags unchanged).', lockable: true },
  neg: { group: 'arith', cls: 'normal', doc: 'Two\'s complement negation.', lockable: true },
  mul: { group: 'arith', cls: 'normal', doc: 'Unsigned multiply of the accumulator: EDX:EAX = EAX * source.' },
  imul: { group: 'arith', cls: 'normal', doc: 'Signed multiply (one operand: EDX:EAX = EAX * source; two or three operands: truncated product).' },
  div: { group: 'arith', cls: 'normal', doc: 'Unsigned divide EDX:EAX by source: quotient in EAX, remainder in EDX; #DE on zero or overflow.' },
  idiv: { group: 'arith', cls: 'normal', doc: 'Signed divide EDX:EAX by source: quotient in EAX, remainder in EDX; #DE on zero or overflow.' },
  test: { group: 'logic', cls: 'normal', doc: 'Bitwise AND without storing, setting flags.' },
  xadd: { group: 'atomic', cls: 'normal', doc: 'Exchange and add: temp = dest + src; src = dest; dest = temp. Atomic with lock.', lockable: true },
  cmpxchg: { group: 'atomic', cls: 'normal', doc: 'Compare EAX with destination; if equal store source, else load destination into EAX. Atomic with lock.', lockable: true },
  cmpxchg8b: { group: 'atomic', cls: 'normal', doc: 'Compare EDX:EAX with a 64-bit memory operand; if equal store ECX:EBX, else load it into EDX:EAX.', lockable: true },
  rol: { group: 'shift', cls: 'normal', doc: 'Rotate left.' },
  ror: { group: 'shift', cls: 'normal', doc: 'Rotate right.' },
  rcl: { group: 'shift', cls: 'normal', doc: 'Rotate left through the carry flag.' },
  rcr: { group: 'shift', cls: 'normal', doc: 'Rotate right through the carry flag.' },
  shl: { group: 'shift', cls: 'normal', doc: 'Shift left (logical); the last bit shifted out goes to CF.' },
  sal: { group: 'shift', cls: 'normal', doc: 'Shift arithmetic left (same as shl).' },
  shr: { group: 'shift', cls: 'normal', doc: 'Shift right, filling with zeros.' },
  sar: { group: 'shift', cls: 'normal', doc: 'Shift right, filling with the sign bit.' },
  shld: { group: 'shift', cls: 'normal', doc: 'Double-precision shift left: bits from the source fill the destination.' },
  shrd: { group: 'shift', cls: 'normal', doc: 'Double-precision shift right: bits from the source fill the destination.' },
  bt: { group: 'bit', cls: 'normal', doc: 'Bit test: copy the selected bit into CF.' },
  bts: { group: 'bit', cls: 'normal', doc: 'Bit test and set.', lockable: true },
  btr: { group: 'bit', cls: 'normal', doc: 'Bit test and reset.', lockable: true },
  btc: { group: 'bit', cls: 'normal', doc: 'Bit test and complement.', lockable: true },
  bsf: { group: 'bit', cls: 'normal', doc: 'Bit scan forward: index of the lowest set bit (ZF=1 if the source is 0).' },
  bsr: { group: 'bit', cls: 'normal', doc: 'Bit scan reverse: index of the highest set bit (ZF=1 if the source is 0).' },
  jmp: { group: 'control', cls: 'normal', doc: 'Jump: near relative, indirect through a register or memory, or far.' },
  jecxz: { group: 'control', cls: 'normal', doc: 'Jump short if ECX is zero.' },
  jcxz: { group: 'control', cls: 'normal', doc: 'Jump short if CX is zero.' },
  loop: { group: 'control', cls: 'normal', doc: 'Decrement ECX; jump short if ECX != 0.' },
  loope: { group: 'control', cls: 'normal', doc: 'Decrement ECX; jump short if ECX != 0 and ZF=1.' },
  loopz: { group: 'control', cls: 'normal', doc: 'Decrement ECX; jump short if ECX != 0 and ZF=1.' },
  loopne: { group: 'control', cls: 'normal', doc: 'Decrement ECX; jump short if ECX != 0 and ZF=0.' },
  loopnz: { group: 'control', cls: 'normal', doc: 'Decrement ECX; jump short if ECX != 0 and ZF=0.' },
  call: { group: 'control', cls: 'normal', doc: 'Call a procedure: push the return address and jump.' },
  ret: { group: 'control', cls: 'normal', doc: 'Near return: pop EIP, then optionally release imm16 bytes of arguments.' },
  retn: { group: 'control', cls: 'normal', doc: 'Near return (same as ret).' },
  retf: { group: 'control', cls: 'normal', doc: 'Far return: pop EIP and CS (a privilege-level change also pops ESP and SS).' },
  int: { group: 'control', cls: 'normal', doc: 'Software interrupt through the IDT gate n; #GP if the gate\'s DPL < CPL. `int 0x82` from ring 1 is the Xen hypercall trap.' },
  int3: { group: 'control', cls: 'normal', doc: 'Breakpoint trap (#BP, vector 3), one byte.' },
  int1: { group: 'control', cls: 'normal', doc: 'Debug trap (#DB, vector 1), one byte (ICEBP).' },
  into: { group: 'control', cls: 'normal', doc: 'Overflow trap (#OF, vector 4) if OF=1.' },
  iret: { group: 'control', cls: 'sensitive', doc: 'Return from interrupt: pop EIP, CS, EFLAGS (and ESP, SS on a privilege change). In ring 1 it cannot restore the virtual interrupt flag.', pv: 'HYPERVISOR_iret (hypercall 23: jmp hypercall_page + 23*32), which restores the virtual IF atomically.' },
  iretd: { group: 'control', cls: 'sensitive', doc: 'Return from interrupt (32-bit frame). In ring 1 it cannot restore the virtual interrupt flag.', pv: 'HYPERVISOR_iret (hypercall 23).' },
  iretw: { group: 'control', cls: 'sensitive', doc: 'Return from interrupt (16-bit frame).', pv: 'HYPERVISOR_iret (hypercall 23).' },
  enter: { group: 'control', cls: 'normal', doc: 'Make a stack frame: push EBP, EBP = ESP, reserve imm16 bytes (nesting level imm8).' },
  leave: { group: 'control', cls: 'normal', doc: 'Release a stack frame: ESP = EBP, pop EBP.' },
  movsb: { group: 'string', cls: 'normal', doc: 'Copy byte [ESI] to [EDI], advance both by DF.', rep: 'rep' },
  movsw: { group: 'string', cls: 'normal', doc: 'Copy word [ESI] to [EDI], advance both by DF.', rep: 'rep' },
  movsd: { group: 'string', cls: 'normal', doc: 'Copy dword [ESI] to [EDI], advance both by DF.', rep: 'rep' },
  stosb: { group: 'string', cls: 'normal', doc: 'Store AL to [EDI], advance EDI.', rep: 'rep' },
  stosw: { group: 'string', cls: 'normal', doc: 'Store AX to [EDI], advance EDI.', rep: 'rep' },
  stosd: { group: 'string', cls: 'normal', doc: 'Store EAX to [EDI], advance EDI.', rep: 'rep' },
  lodsb: { group: 'string', cls: 'normal', doc: 'Load AL from [ESI], advance ESI.', rep: 'rep' },
  lodsw: { group: 'string', cls: 'normal', doc: 'Load AX from [ESI], advance ESI.', rep: 'rep' },
  lodsd: { group: 'string', cls: 'normal', doc: 'Load EAX from [ESI], advance ESI.', rep: 'rep' },
  cmpsb: { group: 'string', cls: 'normal', doc: 'Compare byte [ESI] with [EDI], advance both.', rep: 'repe' },
  cmpsw: { group: 'string', cls: 'normal', doc: 'Compare word [ESI] with [EDI], advance both.', rep: 'repe' },
  cmpsd: { group: 'string', cls: 'normal', doc: 'Compare dword [ESI] with [EDI], advance both.', rep: 'repe' },
  scasb: { group: 'string', cls: 'normal', doc: 'Compare AL with [EDI], advance EDI.', rep: 'repe' },
  scasw: { group: 'string', cls: 'normal', doc: 'Compare AX with [EDI], advance EDI.', rep: 'repe' },
  scasd: { group: 'string', cls: 'normal', doc: 'Compare EAX with [EDI], advance EDI.', rep: 'repe' },
  insb: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Input byte from port DX to [EDI]; #GP unless CPL <= IOPL or the I/O bitmap allows it.', rep: 'rep', pv: 'Use a split driver (shared ring + event channel); a domain given I/O access gets it with physdev_op PHYSDEVOP_set_iopl.' },
  insw: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Input word from port DX to [EDI]; #GP unless CPL <= IOPL.', rep: 'rep', pv: 'Use a split driver, or physdev_op PHYSDEVOP_set_iopl for a domain with I/O access.' },
  insd: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Input dword from port DX to [EDI]; #GP unless CPL <= IOPL.', rep: 'rep', pv: 'Use a split driver, or physdev_op PHYSDEVOP_set_iopl for a domain with I/O access.' },
  outsb: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Output byte [ESI] to port DX; #GP unless CPL <= IOPL.', rep: 'rep', pv: 'Use a split driver, or physdev_op PHYSDEVOP_set_iopl for a domain with I/O access.' },
  outsw: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Output word [ESI] to port DX; #GP unless CPL <= IOPL.', rep: 'rep', pv: 'Use a split driver, or physdev_op PHYSDEVOP_set_iopl for a domain with I/O access.' },
  outsd: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Output dword [ESI] to port DX; #GP unless CPL <= IOPL.', rep: 'rep', pv: 'Use a split driver, or physdev_op PHYSDEVOP_set_iopl for a domain with I/O access.' },
  clc: { group: 'flags', cls: 'normal', doc: 'Clear the carry flag.' },
  stc: { group: 'flags', cls: 'normal', doc: 'Set the carry flag.' },
  cmc: { group: 'flags', cls: 'normal', doc: 'Complement the carry flag.' },
  cld: { group: 'flags', cls: 'normal', doc: 'Clear the direction flag (string operations count up).' },
  std: { group: 'flags', cls: 'normal', doc: 'Set the direction flag (string operations count down).' },
  cli: { group: 'flags', cls: 'privileged', xen: 'the kernel gets #GP(0); with a virtual IOPL of 1 (PHYSDEVOP_set_iopl) Xen silently ignores it instead, and events stay as vcpu_info says.', iopl: true, doc: 'Clear the interrupt flag; #GP when CPL > IOPL, as in a PV guest kernel.', pv: `Mask event delivery: set ${EVTCHN_MASK} to 1.` },
  sti: { group: 'flags', cls: 'privileged', xen: 'the kernel gets #GP(0); with a virtual IOPL of 1 (PHYSDEVOP_set_iopl) Xen silently ignores it instead, and events stay as vcpu_info says.', iopl: true, doc: 'Set the interrupt flag; #GP when CPL > IOPL, as in a PV guest kernel.', pv: `Unmask event delivery: set ${EVTCHN_MASK} to 0, then if evtchn_upcall_pending is set, process pending events.` },
  nop: { group: 'misc', cls: 'normal', doc: 'No operation (the r/m form is the multi-byte NOP).' },
  pause: { group: 'misc', cls: 'normal', doc: 'Spin-loop hint.' },
  cpuid: { group: 'misc', cls: 'sensitive', doc: 'CPU identification. Not trapped in a PV guest: it reports the host CPU\'s features, not the virtual machine\'s.', pv: 'Put Xen\'s forced-emulation prefix before it (XEN_CPUID in xen.inc: ud2; db "xen"; cpuid): it then traps, and Xen answers with the view its policy gives the domain.' },
  rdtsc: { group: 'misc', cls: 'normal', doc: 'Read the time-stamp counter into EDX:EAX (the PV clock is vcpu_time_info in shared_info).' },
  rdpmc: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Read a performance counter; #GP at CPL>0 unless CR4.PCE is set.', pv: 'Not available to PV guests.' },
  ud2: { group: 'misc', cls: 'normal', doc: 'Raise #UD on purpose.' },
  lfence: { group: 'misc', cls: 'normal', doc: 'Load fence.' },
  mfence: { group: 'misc', cls: 'normal', doc: 'Memory fence: orders all earlier loads and stores.' },
  sfence: { group: 'misc', cls: 'normal', doc: 'Store fence.' },
  hlt: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Halt until the next interrupt; #GP at CPL>0.', pv: 'sched_op(SCHEDOP_block) — blocks the vCPU until an event arrives, re-enabling event delivery atomically.' },
  lgdt: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Load the GDT register; #GP at CPL>0.', pv: 'set_gdt (hypercall 2) with a list of frames holding the descriptors; Xen validates them.' },
  lidt: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Load the IDT register; #GP at CPL>0.', pv: 'set_trap_table (hypercall 0) with a zero-terminated array of trap_info entries.' },
  sgdt: { group: 'system', cls: 'sensitive', doc: 'Store the GDT register. Not trapped at CPL>0: it reveals the hypervisor\'s GDT, not the guest\'s.', pv: 'Keep your own copy of the GDT location you passed to set_gdt.' },
  sidt: { group: 'system', cls: 'sensitive', doc: 'Store the IDT register. Not trapped at CPL>0: it reveals the hypervisor\'s IDT.', pv: 'Keep your own copy of the trap table you passed to set_trap_table.' },
  lldt: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Load the LDT register; #GP at CPL>0.', pv: 'mmuext_op MMUEXT_SET_LDT with the LDT\'s linear address and entry count.' },
  sldt: { group: 'system', cls: 'sensitive', doc: 'Store the LDT selector. Not trapped at CPL>0: it reveals the real LDTR.', pv: 'Keep your own record of the LDT set with MMUEXT_SET_LDT.' },
  ltr: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Load the task register; #GP at CPL>0.', pv: 'Not needed: use stack_switch (hypercall 3) to set the ring-1 stack for traps from ring 3.' },
  str: { group: 'system', cls: 'sensitive', doc: 'Store the task register selector. Not trapped at CPL>0: it reveals the hypervisor\'s TR.', pv: 'Not meaningful in a PV guest; the kernel stack is set with stack_switch.' },
  smsw: { group: 'system', cls: 'sensitive', doc: 'Store the machine status word (CR0 bits 0-15). Not trapped at CPL>0: it reveals the real CR0, e.g. TS.', pv: 'Track CR0.TS yourself; change it with fpu_taskswitch.' },
  lmsw: { group: 'system', cls: 'privileged', xen: 'Xen emulates it as a CR0 write, which may change only TS; anything else gets the kernel #GP(0).', doc: 'Load the machine status word into CR0; #GP at CPL>0.', pv: 'fpu_taskswitch (hypercall 5) for TS; other CR0 bits are owned by Xen.' },
  lar: { group: 'system', cls: 'sensitive', doc: 'Load access rights of a segment descriptor. Not trapped: it inspects Xen\'s descriptor tables.', pv: 'Read the descriptor from your own GDT/LDT copy (the frames you gave set_gdt or MMUEXT_SET_LDT).' },
  lsl: { group: 'system', cls: 'sensitive', doc: 'Load the segment limit of a descriptor. Not trapped: it inspects Xen\'s descriptor tables.', pv: 'Read the limit from your own GDT/LDT copy (the frames you gave set_gdt or MMUEXT_SET_LDT).' },
  verr: { group: 'system', cls: 'sensitive', doc: 'Verify a segment for reading (ZF). Not trapped: it inspects Xen\'s descriptor tables.', pv: 'Check the descriptor in your own GDT/LDT copy.' },
  verw: { group: 'system', cls: 'sensitive', doc: 'Verify a segment for writing (ZF). Not trapped: it inspects Xen\'s descriptor tables.', pv: 'Check the descriptor in your own GDT/LDT copy.' },
  clts: { group: 'system', cls: 'privileged', xen: 'Xen emulates it (it clears the virtual CR0.TS), at the cost of a trap each time.', doc: 'Clear CR0.TS; #GP at CPL>0.', pv: 'fpu_taskswitch(0) (hypercall 5).' },
  invlpg: { group: 'system', cls: 'privileged', xen: 'the kernel gets #GP(0).', doc: 'Invalidate the TLB entry for one page; #GP at CPL>0.', pv: 'mmuext_op MMUEXT_INVLPG_LOCAL, or UVMF_INVLPG on update_va_mapping.' },
  invd: { group: 'system', cls: 'privileged', xen: 'Xen skips it (a guest owns no caches), at the cost of a trap each time.', doc: 'Invalidate caches without write-back; #GP at CPL>0.', pv: 'Not available to PV guests (Xen owns the caches).' },
  wbinvd: { group: 'system', cls: 'privileged', xen: 'Xen skips it for a domain without cache-flush permission (and flushes for one with it), at the cost of a trap each time.', doc: 'Write back and invalidate caches; #GP at CPL>0.', pv: 'Not needed in a PV guest (Xen ignores it for guests with no device memory).' },
  rdmsr: { group: 'system', cls: 'privileged', xen: 'Xen emulates a whitelist of MSRs, at the cost of a trap each time; any other gets the kernel #GP(0).', doc: 'Read the model-specific register ECX into EDX:EAX; #GP at CPL>0.', pv: 'Xen emulates a small whitelist; use the PV interfaces (vcpu_time_info for time, physdev_op for devices).' },
  wrmsr: { group: 'system', cls: 'privileged', xen: 'Xen emulates a whitelist of MSRs, at the cost of a trap each time; any other gets the kernel #GP(0).', doc: 'Write EDX:EAX to the model-specific register ECX; #GP at CPL>0.', pv: 'Xen emulates a small whitelist; use the PV interfaces.' },
  in: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Input from an I/O port; #GP unless CPL <= IOPL or the I/O bitmap allows it.', pv: 'Use a split driver (shared ring + event channel); a domain with device access uses physdev_op PHYSDEVOP_set_iopl.' },
  out: { group: 'io', cls: 'privileged', xen: 'Xen emulates it when the kernel allowed the port (its virtual IOPL, PHYSDEVOP_set_iopl, or its I/O bitmap): a domain without device access reads all ones and its writes go nowhere; otherwise the kernel gets #GP(0).', iopl: true, doc: 'Output to an I/O port; #GP unless CPL <= IOPL or the I/O bitmap allows it.', pv: 'Use a split driver (shared ring + event channel); a domain with device access uses physdev_op PHYSDEVOP_set_iopl.' },
};
for (const [m, doc] of Object.entries(ALU_DOC)) {
  INFO[m] = { group: m === 'cmp' || m === 'add' || m === 'adc' || m === 'sub' || m === 'sbb' ? 'arith' : 'logic', cls: 'normal', doc, lockable: m !== 'cmp' };
}
for (const prefix of Object.keys(CC_DOC)) {
  for (const c of CONDITIONS) {
    for (const suffix of [c.name, ...c.aliases]) {
      const group: InstructionGroup = prefix === 'j' ? 'control' : 'data';
      INFO[prefix + suffix] = { group, cls: 'normal', doc: `${CC_DOC[prefix]} ${c.test}.` };
    }
  }
}

function parseRows(text: string): InstructionForm[] {
  const forms: InstructionForm[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [mnemonic, operandText, ...rest] = line.split(/\s+/);
    const flags = new Set(rest.filter((t) => t.startsWith('!')).map((t) => t.slice(1)));
    const enc = rest.filter((t) => !t.startsWith('!'));
    const ops = operandText === '-' ? [] : operandText.split(',');
    const sizes: (16 | 32 | 0)[] = ops.some((o) => o.endsWith('v') && o !== 'v') || enc.includes('ov') ? [16, 32] : [0];
    const names = mnemonic.includes('$cc')
      ? CONDITIONS.flatMap((c) => [c.name, ...c.aliases].map((s) => ({ name: mnemonic.replace('$cc', s), cc: c.code })))
      : [{ name: mnemonic, cc: -1 }];
    for (const { name, cc } of names) {
      for (const size of sizes) {
        forms.push(buildForm(name, ops, enc, size, cc, flags, forms.length));
      }
    }
  }
  return forms;
}

function buildForm(
  mnemonic: string, ops: string[], enc: string[], size: 0 | 16 | 32, cc: number, flags: Set<string>, index: number,
): InstructionForm {
  const vsize = (s: string) => s.replace(/v$/, String(size));
  const operands = ops.map((o) => {
    if (o === 'accv') return size === 16 ? 'ax' : 'eax';
    if (o === 'moffsv' || o === 'rmv' || o === 'rv' || o === 'immv') return vsize(o);
    return o;
  }) as OperandKind[];
  let opsize: 0 | 16 | 32 = 0;
  let adsize: 0 | 16 | 32 = 0;
  const opcode: number[] = [];
  let modrm: 'r' | number | undefined;
  let plusReg = -1;
  let ccAdd = -1;
  const tail: TailField[] = [];
  for (const token of enc) {
    if (token === 'ov') opsize = size;
    else if (token === 'o16' || token === 'o32') opsize = token === 'o16' ? 16 : 32;
    else if (token === 'a16' || token === 'a32') adsize = token === 'a16' ? 16 : 32;
    else if (token === '/r') modrm = 'r';
    else if (/^\/[0-7]$/.test(token)) modrm = Number(token[1]);
    else if (token === 'ib') tail.push({ kind: 'imm', bytes: 1 });
    else if (token === 'iw') tail.push({ kind: 'imm', bytes: 2 });
    else if (token === 'id') tail.push({ kind: 'imm', bytes: 4 });
    else if (token === 'iv') tail.push({ kind: 'imm', bytes: size === 16 ? 2 : 4 });
    else if (token === 'rb') tail.push({ kind: 'rel', bytes: 1 });
    else if (token === 'rd') tail.push({ kind: 'rel', bytes: 4 });
    else if (token === 'mo') tail.push({ kind: 'moffs' });
    else if (token === 'pd') tail.push({ kind: 'farptr' });
    else {
      const m = /^([0-9a-f]{2})(\+r|\+cc)?$/.exec(token);
      if (!m) throw new Error(`instruction table: bad encoding token '${token}' for ${mnemonic}`);
      opcode.push(parseInt(m[1], 16) + (m[2] === '+cc' ? cc : 0));
      if (m[2] === '+r') plusReg = operands.findIndex((k) => k === 'r8' || k === 'r16' || k === 'r32');
      if (m[2] === '+cc') ccAdd = cc;
    }
  }
  const info = INFO[mnemonic];
  if (!info) throw new Error(`instruction table: no docs for ${mnemonic}`);
  const cls = flags.has('priv') ? 'privileged' : flags.has('sens') ? 'sensitive' : info.cls;
  return {
    mnemonic, operands, opsize, adsize, opcode, modrm, plusReg, cc: ccAdd, tail, cls,
    decodeOnly: flags.has('decode'), dup: flags.has('dup'), noSize: flags.has('nosize'), index,
    ...modrmOperands(operands, modrm, flags.has('dup')),
  };
}

/**
 * Which operands ModRM carries. Segment, control and debug registers always sit in
 * ModRM.reg; otherwise the r/m-kind operand goes in r/m and a general register in reg;
 * with a special register and a general one and no r/m kind (`mov r32, cr0`, `lldt r32`)
 * the general register is r/m.
 */
function modrmOperands(operands: readonly OperandKind[], modrm: 'r' | number | undefined, dup: boolean): { regOperand: number; rmOperand: number } {
  if (modrm === undefined) return { regOperand: -1, rmOperand: -1 };
  const rmKind = operands.findIndex((k) => RM_KINDS.has(k));
  const firstGpr = operands.findIndex((k) => REGISTER_KINDS.has(k));
  if (modrm !== 'r') return { regOperand: -1, rmOperand: rmKind >= 0 ? rmKind : firstGpr };
  const special = operands.findIndex((k) => k === 'sreg' || k === 'creg' || k === 'dreg');
  if (special >= 0) return { regOperand: special, rmOperand: rmKind >= 0 ? rmKind : firstGpr };
  const reg = operands.findIndex((k, i) => i !== rmKind && REGISTER_KINDS.has(k));
  // two registers and no r/m kind (`lar r32, r16`): the second is r/m
  const rm = rmKind >= 0 || dup ? rmKind : operands.findIndex((k, i) => i !== reg && REGISTER_KINDS.has(k));
  return { regOperand: reg, rmOperand: dup ? reg : rm };
}

/** Every encoding form, in the encoder's order of preference. */
export const FORMS: readonly InstructionForm[] = parseRows(ROWS);

/** Docs and classification of every mnemonic in FORMS. */
export const MNEMONICS: Readonly<Record<string, MnemonicInfo>> = INFO;

const BY_MNEMONIC = new Map<string, InstructionForm[]>();
for (const f of FORMS) {
  const list = BY_MNEMONIC.get(f.mnemonic) ?? [];
  list.push(f);
  BY_MNEMONIC.set(f.mnemonic, list);
}

/** The encodable forms of a mnemonic (lower case), in order of preference. */
export function formsOf(mnemonic: string): readonly InstructionForm[] {
  return BY_MNEMONIC.get(mnemonic) ?? [];
}

/** Instruction prefixes NASM accepts as words before a mnemonic, with their bytes. */
export const PREFIXES: Readonly<Record<string, number>> = {
  lock: 0xf0, rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2,
  o16: 0x66, o32: 0, a16: 0x67, a32: 0,
  es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65,
};

/** Segment-override prefix byte for each segment register. */
export const SEGMENT_PREFIX: Readonly<Record<string, number>> = Object.fromEntries(SREG_NAMES.map((r) => [r, PREFIXES[r]]));
