// Memory-management commands: mmu_update, mmuext_op, update_va_mapping, vm_assist and
// memory_op.

import { c } from './define.js';
import type { XenConstantGroup } from './types.js';

export const MMU: XenConstantGroup = {
  id: 'MMU',
  doc: 'mmu_update commands, carried in the low 2 bits of mmu_update.ptr.',
  source: 'xen/include/public/xen.h',
  distinct: true,
  constants: [
    c('MMU_NORMAL_PT_UPDATE', 0, 'Checked *ptr = val; ptr is the machine address of a page-table entry.'),
    c('MMU_MACHPHYS_UPDATE', 1, 'M2P[ptr >> 12] = val; ptr is a machine address in the frame.'),
    c('MMU_PT_UPDATE_PRESERVE_AD', 2, 'Like NORMAL, but keeps the entry\'s Accessed/Dirty bits atomically.'),
    c('MMU_PT_UPDATE_NO_TRANSLATE', 3, 'Like NORMAL, but val is never translated.'),
  ],
};

export const MMUEXT: XenConstantGroup = {
  id: 'MMUEXT',
  doc: 'mmuext_op commands (mmuext_op.cmd).',
  source: 'xen/include/public/xen.h',
  distinct: true,
  constants: [
    c('MMUEXT_PIN_L1_TABLE', 0, 'Validate arg1.mfn as a page table and pin it.'),
    c('MMUEXT_PIN_L2_TABLE', 1, 'Validate arg1.mfn as a page directory (the non-PAE root) and pin it.'),
    c('MMUEXT_PIN_L3_TABLE', 2, 'Pin an L3 table (the PAE root).'),
    c('MMUEXT_PIN_L4_TABLE', 3, 'Pin an L4 table (64-bit only).'),
    c('MMUEXT_UNPIN_TABLE', 4, 'Unpin arg1.mfn.'),
    c('MMUEXT_NEW_BASEPTR', 5, 'Switch CR3 to the table at arg1.mfn.'),
    c('MMUEXT_TLB_FLUSH_LOCAL', 6, 'Flush this vCPU\'s TLB.'),
    c('MMUEXT_INVLPG_LOCAL', 7, 'Flush arg1.linear_addr from this vCPU\'s TLB.'),
    c('MMUEXT_TLB_FLUSH_MULTI', 8, 'Flush the TLBs of the vCPUs in arg2.vcpumask.'),
    c('MMUEXT_INVLPG_MULTI', 9, 'Flush arg1.linear_addr on the vCPUs in arg2.vcpumask.'),
    c('MMUEXT_TLB_FLUSH_ALL', 10, 'Flush the TLBs of all vCPUs of the domain.'),
    c('MMUEXT_INVLPG_ALL', 11, 'Flush arg1.linear_addr on all vCPUs.'),
    c('MMUEXT_FLUSH_CACHE', 12, 'Write back and invalidate caches (privileged).'),
    c('MMUEXT_SET_LDT', 13, 'Set the LDT: arg1.linear_addr (page aligned), arg2.nr_ents entries.'),
    c('MMUEXT_NEW_USER_BASEPTR', 15, 'Set the user page-table base (64-bit only).'),
    c('MMUEXT_CLEAR_PAGE', 16, 'Zero the frame arg1.mfn.'),
    c('MMUEXT_COPY_PAGE', 17, 'Copy frame arg2.src_mfn to arg1.mfn.'),
    c('MMUEXT_FLUSH_CACHE_GLOBAL', 18, 'Flush caches on all CPUs.'),
    c('MMUEXT_MARK_SUPER', 19, 'Mark arg1.mfn as a superpage.'),
    c('MMUEXT_UNMARK_SUPER', 20, 'Unmark a superpage.'),
  ],
};

export const UVMF: XenConstantGroup = {
  id: 'UVMF',
  doc: 'update_va_mapping flags (ORed): flush type in bits 0-1, scope in bit 2 (or a vCPU-bitmap pointer).',
  source: 'xen/include/public/xen.h',
  distinct: false,
  constants: [
    c('UVMF_NONE', 0, 'No flush.'),
    c('UVMF_TLB_FLUSH', 1, 'Flush entire TLB(s).'),
    c('UVMF_INVLPG', 2, 'Flush only the one entry.'),
    c('UVMF_FLUSHTYPE_MASK', 3, 'Mask of the flush-type bits.'),
    c('UVMF_MULTI', 0, 'Flush the vCPUs in the bitmap whose pointer is ORed in.'),
    c('UVMF_LOCAL', 0, 'Flush only the local TLB (MULTI with a NULL bitmap).'),
    c('UVMF_ALL', 1 << 2, 'Flush on all vCPUs.'),
  ],
};

export const VMASST: XenConstantGroup = {
  id: 'VMASST',
  doc: 'vm_assist commands and assist types.',
  source: 'xen/include/public/xen.h',
  distinct: false,
  constants: [
    c('VMASST_CMD_enable', 0, 'Enable an assist.'),
    c('VMASST_CMD_disable', 1, 'Disable an assist.'),
    c('VMASST_TYPE_4gb_segments', 0, 'Simulate full 4 GiB segment limits (x86_32).'),
    c('VMASST_TYPE_4gb_segments_notify', 1, 'Trap (vector 15) whenever the 4gb_segments assist is used.'),
    c('VMASST_TYPE_writable_pagetables', 2, 'Emulate direct writes to L1 page-table entries (never to page directories).'),
    c('VMASST_TYPE_pae_extended_cr3', 3, 'PAE page-directory-pointer tables may live above 4 GiB.'),
    c('VMASST_TYPE_architectural_iopl', 4, 'Sane virtual IOPL: updated by the iret hypercall and reported in bounce frames.'),
    c('VMASST_TYPE_runstate_update_flag', 5, 'Set XEN_RUNSTATE_UPDATE in the mapped runstate area during updates.'),
    c('VMASST_TYPE_m2p_strict', 32, 'Strictly hide the M2P table from user mode (64-bit).'),
  ],
};

export const XENMEM: XenConstantGroup = {
  id: 'XENMEM',
  doc: 'memory_op commands (those a guest kernel\'s headers have: not the toolstack-only ones).',
  source: 'xen/include/public/memory.h',
  distinct: true,
  constants: [
    c('XENMEM_increase_reservation', 0, 'Allocate extents to the domain.'),
    c('XENMEM_decrease_reservation', 1, 'Release extents (balloon out).'),
    c('XENMEM_maximum_ram_page', 2, 'Highest machine frame with RAM.'),
    c('XENMEM_current_reservation', 3, 'Pages the domain currently holds.'),
    c('XENMEM_maximum_reservation', 4, 'Maximum pages the domain may hold.'),
    c('XENMEM_machphys_mfn_list', 5, 'MFNs holding the M2P table.'),
    c('XENMEM_populate_physmap', 6, 'Populate pseudo-physical frames with memory.'),
    c('XENMEM_add_to_physmap', 7, 'Map a special page (shared_info, grant table, ...) into the physmap.'),
    c('XENMEM_memory_map', 9, 'The domain\'s pseudo-physical memory map.'),
    c('XENMEM_machine_memory_map', 10, 'The machine memory map (privileged).'),
    c('XENMEM_exchange', 11, 'Exchange extents for others with different properties.'),
    c('XENMEM_machphys_mapping', 12, 'Virtual location and size of the M2P table.'),
    c('XENMEM_set_memory_map', 13, 'Set a domain\'s memory map (privileged).'),
    c('XENMEM_maximum_gpfn', 14, 'Highest guest frame number in use.'),
    c('XENMEM_remove_from_physmap', 15, 'Remove a page from the physmap.'),
    c('XENMEM_set_pod_target', 16, 'Set a domain\'s populate-on-demand target (privileged).'),
    c('XENMEM_get_pod_target', 17, 'A domain\'s populate-on-demand target and usage (privileged).'),
    c('XENMEM_add_to_physmap_batch', 23, 'XENMEM_add_to_physmap for a list of pages.'),
    c('XENMEM_get_vnumainfo', 26, 'The domain\'s virtual NUMA topology (used by guests).'),
    c('XENMEM_acquire_resource', 28, 'Map frames of a resource of a domain: grant table, ioreq server (tools).'),
  ],
};

export const XENMAPSPACE: XenConstantGroup = {
  id: 'XENMAPSPACE',
  doc: 'Spaces for XENMEM_add_to_physmap.',
  source: 'xen/include/public/memory.h',
  distinct: true,
  constants: [
    c('XENMAPSPACE_shared_info', 0, 'The shared_info page.'),
    c('XENMAPSPACE_grant_table', 1, 'A grant-table frame.'),
    c('XENMAPSPACE_gmfn', 2, 'A guest frame.'),
    c('XENMAPSPACE_gmfn_range', 3, 'A range of guest frames.'),
    c('XENMAPSPACE_gmfn_foreign', 4, 'A frame of another domain.'),
    c('XENMAPSPACE_dev_mmio', 5, 'Device MMIO.'),
  ],
};
