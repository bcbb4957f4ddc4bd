// Editor snippets for guest sources (client/snippets/xasm.json): the shapes a PV guest is
// made of — a skeleton that boots, prints and powers off; a hypercall; a trap table; a
// batched mmu_update; console output; shutdown. Hypercall names come from isa/. (The
// language server completes each hypercall with its own argument registers; these are
// the larger patterns around them.) Each snippet, expanded with its defaults, assembles,
// and the skeleton boots: client/test/snippets.test.ts.

import { HYPERCALLS } from '../../isa/src/index.js';

export interface Snippet {
  prefix: string;
  description: string;
  body: string[];
}

const hypercallChoice = (first: string) => `\${1|${[first, ...HYPERCALLS.map((h) => h.name).filter((n) => n !== first)].join(',')}|}`;

export function xasmSnippets(): Record<string, Snippet> {
  return {
    'PV guest kernel': {
      prefix: 'guest',
      description: 'A Xen PV guest kernel: ELF notes, start_info kept, a line on the console, shutdown, the hypercall page, a stack.',
      body: [
        'bits 32',
        '%include "xen.inc"',
        '',
        'VIRT_BASE equ 0xC0000000',
        'org VIRT_BASE',
        '',
        'XEN_ELFNOTE GUEST_OS,       "${1:my-kernel}"',
        'XEN_ELFNOTE XEN_VERSION,    "xen-3.0"',
        'XEN_ELFNOTE LOADER,         "generic"',
        'XEN_ELFNOTE VIRT_BASE,      VIRT_BASE',
        'XEN_ELFNOTE PADDR_OFFSET,   VIRT_BASE',
        'XEN_ELFNOTE ENTRY,          _start',
        'XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page',
        '',
        'section .text',
        'global _start',
        '_start:',
        '    cld',
        '    mov esp, stack_top',
        '    mov [start_info_ptr], esi           ; Xen passes start_info in esi',
        '',
        '    mov ebx, CONSOLEIO_write            ; console_io(CONSOLEIO_write, length, text)',
        '    mov ecx, hello_len',
        '    mov edx, hello',
        '    HYPERCALL_PAGE_CALL console_io',
        '    $0',
        '    mov ebx, SCHEDOP_shutdown           ; sched_op(SCHEDOP_shutdown, &reason)',
        '    mov ecx, shutdown_reason',
        '    HYPERCALL_PAGE_CALL sched_op',
        '    jmp \\$',
        '',
        '; Xen fills this page with 32-byte stubs: call hypercall_page + N*32.',
        'align 4096, db 0',
        'hypercall_page:',
        '    times 4096 db 0',
        '',
        'section .data',
        'hello:          db "${2:Hello from a PV guest}", 10',
        'hello_len       equ \\$ - hello',
        'shutdown_reason: dd SHUTDOWN_poweroff',
        '',
        'section .bss',
        'start_info_ptr: resd 1',
        'alignb 16',
        'stack:          resb 8192',
        'stack_top:',
      ],
    },
    'Hypercall through the hypercall page': {
      prefix: 'hypercall',
      description: 'Arguments in ebx, ecx, edx, esi, edi, then a call into the hypercall page; eax holds the result (a negative errno on failure).',
      body: [
        'mov ebx, ${2:0}',
        'mov ecx, ${3:0}',
        `HYPERCALL_PAGE_CALL ${hypercallChoice('console_io')}`,
        'test eax, eax',
        'js ${4:hypercall_failed}$0',
      ],
    },
    'Trap table (set_trap_table)': {
      prefix: 'traptable',
      description: 'The PV replacement for lidt: a zero-terminated array of trap_info entries, installed with set_trap_table.',
      body: [
        '    mov ebx, trap_table',
        '    HYPERCALL_PAGE_CALL set_trap_table',
        '',
        'section .data',
        'align 4',
        'trap_table:',
        '    istruc trap_info',
        '        at trap_info.vector,  db ${1:13}            ; #GP',
        '        at trap_info.flags,   db 0             ; DPL 0: only the kernel may raise it with int',
        '        at trap_info.cs,      dw FLAT_KERNEL_CS',
        '        at trap_info.address, dd ${2:general_protection}',
        '    iend',
        '    times trap_info_size db 0           ; a zero entry ends the table',
        'section .text$0',
      ],
    },
    'Batched mmu_update': {
      prefix: 'mmubatch',
      description: 'Queue page-table updates in an array and make one mmu_update for all of them: one guest→Xen transition instead of one per entry.',
      body: [
        '    ; ${2:requests}: ${3:COUNT} mmu_update structs, e.g. `$2: resb $3 * mmu_update_size` in .bss',
        '    mov ebx, $2                    ; the next free request',
        '.${1:queue}:',
        '    ; ... the entry\'s machine address in eax, its new value in edx ...',
        '    or eax, MMU_NORMAL_PT_UPDATE',
        '    mov [ebx + mmu_update.ptr], eax',
        '    mov dword [ebx + mmu_update.ptr + 4], 0',
        '    mov [ebx + mmu_update.val], edx',
        '    mov dword [ebx + mmu_update.val + 4], 0',
        '    add ebx, mmu_update_size',
        '    cmp ebx, $2 + $3 * mmu_update_size',
        '    jb .$1',
        '    mov ebx, $2                    ; mmu_update(reqs, count, &done, DOMID_SELF)',
        '    mov ecx, $3',
        '    mov edx, ${4:done}',
        '    mov esi, DOMID_SELF',
        '    HYPERCALL_PAGE_CALL mmu_update',
        '    test eax, eax',
        '    jnz ${5:fail}',
        '    cmp dword [$4], $3               ; every request was applied',
        '    jne $5$0',
      ],
    },
    'Console output (console_io)': {
      prefix: 'print',
      description: 'Write a string on Xen\'s emergency console with console_io(CONSOLEIO_write, length, text).',
      body: [
        'mov ebx, CONSOLEIO_write',
        'mov ecx, ${1:message}_len',
        'mov edx, $1',
        'HYPERCALL_PAGE_CALL console_io$0',
      ],
    },
    'Shutdown (sched_op)': {
      prefix: 'shutdown',
      description: 'Shut the domain down with sched_op(SCHEDOP_shutdown, &reason); the reason is a dword in memory.',
      body: [
        'mov dword [${1:shutdown_reason}], ${2|SHUTDOWN_poweroff,SHUTDOWN_reboot,SHUTDOWN_crash|}',
        'mov ebx, SCHEDOP_shutdown',
        'mov ecx, $1',
        'HYPERCALL_PAGE_CALL sched_op$0',
      ],
    },
  };
}
