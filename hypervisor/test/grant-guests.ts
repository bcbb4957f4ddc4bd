// Two guest kernels that use grant tables, for the grant and control tests: a granter
// (domain 1) and a mapper (domain 2, run after it).

import { kernel } from './guest.js';

const PTE = '_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY';

/**
 * Guest code setting up a one-frame grant table and mapping it writable at `gtab` (a page
 * of the guest's); ESI is start_info before and after. GRANT_TABLE_DATA goes with it.
 */
export const SETUP_GRANT_TABLE = `
    mov [si_ptr], esi
    mov ebx, GNTTABOP_setup_table
    mov ecx, setup
    mov edx, 1
    HYPERCALL grant_table_op
    mov ecx, [gframes]
    shl ecx, 12
    or ecx, ${PTE}
    mov ebx, gtab
    xor edx, edx
    mov esi, UVMF_INVLPG
    HYPERCALL update_va_mapping
    mov esi, [si_ptr]`;

export const GRANT_TABLE_DATA = `si_ptr: dd 0
setup: dw DOMID_SELF, 0
       dd 1                              ; nr_frames
       dw 0, 0                           ; status
       dd gframes
gframes: dd 0`;

/** Domain 1: a one-frame grant table mapped at `gtab`; ref 8 grants `page` to domain 2, ref 9 read-only, ref 10 to domain 3. */
export const GRANTER = kernel(`${SETUP_GRANT_TABLE}
    mov eax, page - 0xC0000000
    shr eax, 12
    mov ebx, [esi + start_info.mfn_list]
    mov eax, [ebx + eax * 4]
    mov [page_mfn], eax
%macro GRANT 3                           ; ref, domain, flags
    mov [gtab + %1 * 8 + grant_entry_v1.frame], eax
    mov word [gtab + %1 * 8 + grant_entry_v1.domid], %2
    mov word [gtab + %1 * 8 + grant_entry_v1.flags], %3
%endmacro
    GRANT 8, 2, GTF_permit_access
    GRANT 9, 2, GTF_permit_access | GTF_readonly
    GRANT 10, 3, GTF_permit_access
    jmp poweroff
align 4096, db 0
gtab: times 4096 db 0
page: dd 0x600dcafe
      times 4092 db 0`, `${GRANT_TABLE_DATA}
page_mfn: dd 0`);

/** A map request: host address, flags, ref, granting domain. */
const MAP = (addr: string, flags: string, ref: number, dom: number) => `dd ${addr}, 0, ${flags}, ${ref}\n    dw ${dom}, 0\n    dd 0, 0, 0`;
const UNMAP = (addr: string, handle: string) => `dd ${addr}, 0, 0, 0, ${handle}, 0`;
/** A copy: source (ref or frame, domain, offset), dest (same), length, flags. */
const COPY = (src: string, srcDom: number, srcOff: number, dst: string, dstDom: string, dstOff: number, len: number, flags: string) =>
  `dd ${src}\n    dw ${srcDom}, ${srcOff}\n    dd ${dst}\n    dw ${dstDom}, ${dstOff}\n    dw ${len}, ${flags}\n    dd 0`;

/** Domain 2: maps, reads, writes, misuses, unmaps, copies. */
export const MAPPER = kernel(`
    mov [si_ptr], esi
    mov eax, copy_dst - 0xC0000000
    shr eax, 12
    mov ebx, [esi + start_info.mfn_list]
    mov eax, [ebx + eax * 4]
    mov [copies + 8], eax                ; the good copy's destination: own frame copy_dst
    mov [copies + 3 * 24], eax           ; the last copy's source
%macro GNT 3                             ; command, ops, count
    mov ebx, GNTTABOP_%1
    mov ecx, %2
    mov edx, %3
    HYPERCALL grant_table_op
%endmacro
    GNT map_grant_ref, map_rw, 1
    mov [r_map], eax
    mov eax, [window]
    mov [seen], eax                      ; what domain 1 put in the page
    mov dword [window], 0x12345678       ; written through the grant
    GNT map_grant_ref, bad_maps, 6
    mov [r_bad], eax
    mov ebx, window2                     ; a grant's entry cannot be overwritten
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    HYPERCALL update_va_mapping
    mov [r_overwrite], eax
    mov eax, [map_rw + 20]
    mov [unmaps + 16 + 24], eax          ; unmap the first mapping, twice
    mov [unmaps + 16 + 48], eax
    GNT unmap_grant_ref, unmaps, 3
    mov [r_unmap], eax
    GNT copy, copies, 4
    mov [r_copy], eax
    GNT query_size, queries, 2
    mov [r_query], eax
    GNT transfer, queries, 1
    mov [r_unknown], eax
    jmp poweroff
align 4096, db 0
window: times 4096 db 0
window2: times 4096 db 0
copy_dst: times 4096 db 0`, `si_ptr: dd 0
r_map: dd 1
r_bad: dd 1
r_overwrite: dd 1
r_unmap: dd 1
r_copy: dd 1
r_query: dd 1
r_unknown: dd 1
seen: dd 0
map_rw: ${MAP('window', 'GNTMAP_host_map', 8, 1)}
bad_maps:
    ${MAP('window2', 'GNTMAP_host_map', 9999, 1)}
    ${MAP('window2', 'GNTMAP_host_map', 9, 1)}
    ${MAP('window2', 'GNTMAP_host_map', 10, 1)}
    ${MAP('window2', 'GNTMAP_host_map', 8, 77)}
    ${MAP('window2', '0', 8, 1)}
    ${MAP('window2', 'GNTMAP_host_map | GNTMAP_readonly', 9, 1)}
unmaps:
    ${UNMAP('window', '999')}
    ${UNMAP('window', '0')}
    ${UNMAP('window', '0')}
copies:
    ${COPY('8', 1, 0, '0', 'DOMID_SELF', 16, 4, 'GNTCOPY_source_gref')}
    ${COPY('8', 1, 4090, '0', 'DOMID_SELF', 0, 10, 'GNTCOPY_source_gref')}
    ${COPY('0', 1, 0, '0', 'DOMID_SELF', 0, 4, '0')}
    ${COPY('0', 0x7ff0, 0, '9', '1', 0, 4, 'GNTCOPY_dest_gref')}
queries:
    dw DOMID_SELF, 0
    dd 0, 0, 0
    dw 1, 0
    dd 0, 0, 0`);

