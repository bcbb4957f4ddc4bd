// Core x86_32 PV facts: how hypercalls are entered, the flat segments, the address-space
// layout of the non-PAE 2-level ABI, page-table entry bits and reserved domain ids.

import { c } from './define.js';
import type { XenConstantGroup, XenStringConstant } from './types.js';

export const HYPERCALL_ABI: XenConstantGroup = {
  id: 'HYPERCALL_ABI',
  doc: 'How a 32-bit PV kernel enters Xen: int 0x82 directly, or a call into the hypercall page.',
  source: 'xen/arch/x86/include/asm/irq-vectors.h; hypercall page layout from xen/arch/x86/pv/hypercall.c',
  distinct: false,
  constants: [
    c('HYPERCALL_VECTOR', 0x82, 'Software-interrupt vector of the hypercall trap (IDT gate DPL 1: ring 1 only).'),
    c('HYPERCALL_STUB_SIZE', 32, 'Bytes per hypercall-page stub: hypercall N lives at hypercall_page + N*32 (xenolab name).'),
    c('HYPERCALL_PAGE_STUBS', 128, 'Stubs in the 4 KiB hypercall page (4096 / 32) (xenolab name).'),
  ],
};

/**
 * Xen's forced-emulation prefix (public/arch-x86/xen.h XEN_EMULATE_PREFIX: ud2, then
 * "xen"): a PV kernel puts it before cpuid to trap and get the CPUID view Xen's policy
 * gives it (XEN_CPUID), not the host's. Xen emulates only cpuid after it.
 */
export const XEN_EMULATE_PREFIX: readonly number[] = [0x0f, 0x0b, 0x78, 0x65, 0x6e];

export const SEGMENTS: XenConstantGroup = {
  id: 'FLAT_SEGMENTS',
  doc: 'Flat 4 GiB selectors Xen provides in its reserved GDT entries; a PV kernel starts with CS=FLAT_KERNEL_CS, DS=SS=FLAT_KERNEL_DS.',
  source: 'xen/include/public/arch-x86/xen-x86_32.h',
  distinct: false,
  constants: [
    c('FLAT_RING1_CS', 0xe019, 'Ring-1 flat code selector (GDT index 259).'),
    c('FLAT_RING1_DS', 0xe021, 'Ring-1 flat data selector (GDT index 260).'),
    c('FLAT_RING1_SS', 0xe021, 'Ring-1 flat stack selector (GDT index 260).'),
    c('FLAT_RING3_CS', 0xe02b, 'Ring-3 flat code selector (GDT index 261).'),
    c('FLAT_RING3_DS', 0xe033, 'Ring-3 flat data selector (GDT index 262).'),
    c('FLAT_RING3_SS', 0xe033, 'Ring-3 flat stack selector (GDT index 262).'),
    c('FLAT_KERNEL_CS', 0xe019, 'Kernel (ring-1) code selector; = FLAT_RING1_CS.'),
    c('FLAT_KERNEL_DS', 0xe021, 'Kernel (ring-1) data selector; = FLAT_RING1_DS.'),
    c('FLAT_KERNEL_SS', 0xe021, 'Kernel (ring-1) stack selector; = FLAT_RING1_SS.'),
    c('FLAT_USER_CS', 0xe02b, 'User (ring-3) code selector; = FLAT_RING3_CS.'),
    c('FLAT_USER_DS', 0xe033, 'User (ring-3) data selector; = FLAT_RING3_DS.'),
    c('FLAT_USER_SS', 0xe033, 'User (ring-3) stack selector; = FLAT_RING3_SS.'),
  ],
};

export const GDT: XenConstantGroup = {
  id: 'GDT',
  doc: 'GDT entries reserved by Xen: a guest GDT passed to set_gdt may use only entries below FIRST_RESERVED_GDT_ENTRY.',
  source: 'xen/include/public/arch-x86/xen.h',
  distinct: true,
  constants: [
    c('FIRST_RESERVED_GDT_PAGE', 14, 'First GDT page owned by Xen.'),
    c('FIRST_RESERVED_GDT_BYTE', 14 * 4096, 'Byte offset of the first Xen-owned GDT entry.'),
    c('FIRST_RESERVED_GDT_ENTRY', (14 * 4096) / 8, 'Index of the first Xen-owned GDT entry (7168).'),
  ],
};

export const LAYOUT: XenConstantGroup = {
  id: 'LAYOUT',
  doc: 'Address-space facts of the non-PAE x86_32 PV ABI (Xen in the top 64 MiB) and fixed sizes.',
  source: 'xen/include/public/arch-x86/xen-x86_32.h (the *_NONPAE bounds), arch-x86/xen.h, xen.h, event_channel.h',
  distinct: false,
  constants: [
    c('HYPERVISOR_VIRT_START', 0xfc000000, 'Start of the hypervisor hole (non-PAE); guests may not map at or above it.'),
    c('MACH2PHYS_VIRT_START', 0xfc000000, 'Start of the read-only machine-to-physical table (non-PAE).'),
    c('MACH2PHYS_VIRT_END', 0xfc400000, 'End of the machine-to-physical table (non-PAE).'),
    c('MACH2PHYS_NR_ENTRIES', 0x100000, 'Entries (4 bytes each) in the machine-to-physical table (non-PAE).'),
    c('HYPERVISOR_VIRT_START_NONPAE', 0xfc000000, 'Hypervisor hole start for non-PAE guests ("obsolete" in modern headers).'),
    c('MACH2PHYS_VIRT_START_NONPAE', 0xfc000000, 'M2P table start for non-PAE guests.'),
    c('MACH2PHYS_VIRT_END_NONPAE', 0xfc400000, 'M2P table end for non-PAE guests.'),
    c('HYPERVISOR_VIRT_START_PAE', 0xf5800000, 'Hypervisor hole start for PAE guests (for comparison; xenolab uses non-PAE).'),
    c('MACH2PHYS_VIRT_START_PAE', 0xf5800000, 'M2P table start for PAE guests.'),
    c('MACH2PHYS_VIRT_END_PAE', 0xf6800000, 'M2P table end for PAE guests.'),
    c('XEN_LEGACY_MAX_VCPUS', 32, 'vcpu_info slots in shared_info.'),
    c('MAX_VIRT_CPUS', 32, 'Pre-4.0 name of XEN_LEGACY_MAX_VCPUS.'),
    c('EVTCHN_2L_NR_CHANNELS', 1024, 'Event-channel ports of the 2-level ABI for a 32-bit guest (32 words x 32 bits).'),
    c('NR_EVENT_CHANNELS', 1024, 'Pre-4.4 name of EVTCHN_2L_NR_CHANNELS.'),
    c('MAX_GUEST_CMDLINE', 1024, 'Bytes of start_info.cmd_line.'),
  ],
};

export const PAGING: XenConstantGroup = {
  id: 'PAGING',
  doc: 'Non-PAE 2-level IA-32 paging: page size, table geometry and page-table entry bits (Intel SDM Vol. 3 section 4.3).',
  source: 'IA-32 architecture (not in Xen public headers; XEN_PAGE_SHIFT is in io/ring.h)',
  distinct: false,
  constants: [
    c('PAGE_SHIFT', 12, 'log2 of the page size.'),
    c('PAGE_SIZE', 4096, 'Bytes per page.'),
    c('L1_PAGETABLE_SHIFT', 12, 'Virtual-address bit where the L1 (page-table) index starts.'),
    c('L2_PAGETABLE_SHIFT', 22, 'Virtual-address bit where the L2 (page-directory) index starts.'),
    c('L1_PAGETABLE_ENTRIES', 1024, '4-byte entries per page table.'),
    c('L2_PAGETABLE_ENTRIES', 1024, '4-byte entries per page directory.'),
    c('_PAGE_PRESENT', 0x001, 'Entry is present.'),
    c('_PAGE_RW', 0x002, 'Writable (Xen refuses it for mappings of page-table and descriptor pages).'),
    c('_PAGE_USER', 0x004, 'Accessible from ring 3.'),
    c('_PAGE_PWT', 0x008, 'Write-through caching.'),
    c('_PAGE_PCD', 0x010, 'Caching disabled.'),
    c('_PAGE_ACCESSED', 0x020, 'Set by the CPU on access.'),
    c('_PAGE_DIRTY', 0x040, 'Set by the CPU on write (L1 entries).'),
    c('_PAGE_PAT', 0x080, 'PAT index bit (L1 entries).'),
    c('_PAGE_PSE', 0x080, '4 MiB page (L2 entries).'),
    c('_PAGE_GLOBAL', 0x100, 'Global mapping (survives CR3 reload).'),
  ],
};

export const DOMID: XenConstantGroup = {
  id: 'DOMID',
  doc: 'Reserved domain ids (domid_t is 16 bits); used e.g. as foreigndom or in event-channel and grant structs.',
  source: 'xen/include/public/xen.h',
  distinct: false,
  constants: [
    c('DOMID_FIRST_RESERVED', 0x7ff0, 'Lowest reserved id; real domains are below it.'),
    c('DOMID_SELF', 0x7ff0, 'The calling domain.'),
    c('DOMID_IO', 0x7ff1, 'Owner of I/O memory (privileged mappings of MMIO).'),
    c('DOMID_XEN', 0x7ff2, 'Owner of Xen-heap frames.'),
    c('DOMID_COW', 0x7ff3, 'Owner of shared copy-on-write frames.'),
    c('DOMID_INVALID', 0x7ff4, 'No domain.'),
    c('DOMID_IDLE', 0x7fff, 'The idle domain.'),
    c('DOMID_MASK', 0x7fff, 'Mask of valid domid bits.'),
  ],
};

export const SIF: XenConstantGroup = {
  id: 'SIF',
  doc: 'Bits of start_info.flags.',
  source: 'xen/include/public/xen.h',
  distinct: true,
  constants: [
    c('SIF_PRIVILEGED', 1 << 0, 'The domain is privileged.'),
    c('SIF_INITDOMAIN', 1 << 1, 'The domain is the initial control domain (dom0).'),
    c('SIF_MULTIBOOT_MOD', 1 << 2, 'mod_start is a multiboot module.'),
    c('SIF_MOD_START_PFN', 1 << 3, 'mod_start is a PFN, not a virtual address.'),
    c('SIF_VIRT_P2M_4TOOLS', 1 << 4, 'Tools understand a virtually mapped P2M list.'),
    c('SIF_PM_MASK', 0xff << 8, 'Byte reserved for power-management options.'),
  ],
};

export const PVCLOCK: XenConstantGroup = {
  id: 'PVCLOCK',
  doc: 'Bits of vcpu_time_info.flags.',
  source: 'xen/include/public/xen.h',
  distinct: true,
  constants: [
    c('XEN_PVCLOCK_TSC_STABLE_BIT', 1 << 0, 'The TSC is stable across vCPUs.'),
    c('XEN_PVCLOCK_GUEST_STOPPED', 1 << 1, 'The guest was paused since the last update.'),
  ],
};

/** Strings of the ABI. */
export const XEN_STRINGS: readonly XenStringConstant[] = [
  { name: 'XEN_START_INFO_MAGIC', value: 'xen-3.0-x86_32',
    doc: 'start_info.magic (and guest type) of a non-PAE x86_32 PV guest (tools/libs/guest xg_dom_x86.c).' },
  { name: 'XEN_START_INFO_MAGIC_PAE', value: 'xen-3.0-x86_32p',
    doc: 'start_info.magic of a PAE x86_32 PV guest, for comparison.' },
];
