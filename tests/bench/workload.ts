// A deterministic, realistic guest-kernel source of a given size for benchmarks:
// functions with prologues, memory operands, loops with forward and backward jumps,
// hypercall macros, data tables and comments.

const MNEMONIC_LINES = [
  'mov eax, [ebx + 8]', 'mov [esi + ecx*4 + 0x10], edx', 'add eax, 1', 'sub esp, 16', 'cmp ecx, 1000',
  'lea edi, [ebp - 12]', 'xor eax, eax', 'test al, 1', 'shl edx, 3', 'movzx ecx, byte [esi]', 'push ebx', 'pop ebx',
  'imul eax, ecx, 12', 'and eax, 0xfffff000', 'or dword [table + 4], 0x80', 'inc dword [counter]', 'mov ebx, table',
];

export function guestSource(lines: number): string {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const out: string[] = [
    'bits 32', '%include "xen.inc"', 'org 0xC0000000', '', '%macro PUTS 2', '    mov ebx, CONSOLEIO_write',
    '    mov ecx, %2', '    mov edx, %1', '    HYPERCALL console_io', '%endmacro', '', 'section .text', 'global _start', '_start:',
  ];
  let fn = 0;
  while (out.length < lines - 40) {
    out.push(`func_${fn}:`, '    push ebp', '    mov ebp, esp', `    mov ecx, ${10 + rand(50)}`, '.loop:');
    const body = 5 + rand(20);
    for (let i = 0; i < body; i++) {
      const r = rand(10);
      if (r === 0) out.push(`    jz .skip_${i}`, '    nop', `.skip_${i}:`);
      else if (r === 1) out.push(`    call func_${rand(fn + 1)}   ; call an earlier function`);
      else if (r === 2) out.push('    PUTS msg, msg_len');
      else out.push(`    ${MNEMONIC_LINES[rand(MNEMONIC_LINES.length)]}`);
    }
    out.push('    dec ecx', '    jnz .loop', '    mov esp, ebp', '    pop ebp', '    ret', '');
    fn++;
  }
  out.push('section .data', 'msg: db "hello", 10', 'msg_len equ $ - msg', 'counter: dd 0', 'table: times 64 dd 0', '');
  while (out.length < lines) out.push('    dd 0x12345678, 0x9abcdef0 ; filler');
  return out.join('\n') + '\n';
}
