// Test guests: kernel sources with the usual preamble, for the hypervisor's tests and benchmarks.

/**
 * A kernel source with the usual preamble; `body` runs at the entry with ESI = start_info.
 * A base just below a 4 MiB boundary makes the boot area (and so the least memory) small.
 */
export function kernel(body: string, data = '', base = 0xc0000000): string {
  return `bits 32
%include "xen.inc"
org 0x${base.toString(16)}
XEN_ELFNOTE VIRT_BASE, 0x${base.toString(16)}
XEN_ELFNOTE HYPERCALL_PAGE, hypercall_page
section .text
global _start
_start:
${body}
poweroff:
    mov ebx, SCHEDOP_shutdown
    mov ecx, reason
    HYPERCALL sched_op
    jmp $
align 4096, db 0
hypercall_page: times 4096 db 0
section .data
reason: dd 0
${data}
`;
}


/** Guest code mapping shared_info (machine address from start_info in ESI) over the page at label `shared`. */
export const MAP_SHARED_INFO = `
    mov eax, [esi + start_info.shared_info]
    or eax, 3                            ; present, writable
    mov ecx, eax
    mov ebx, shared
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping`;
