// i386 layouts of the core PV structs: the ones passed to the MMU, trap and multicall
// hypercalls, and the shared_info / start_info pages Xen gives every PV guest.
// (i386: 64-bit members are 4-byte aligned inside structs; longs and pointers are 4 bytes.)

import { f } from './define.js';
import type { StructLayout } from './types.js';

export const TRAP_INFO: StructLayout = {
  name: 'trap_info', size: 8, align: 4, header: 'arch-x86/xen.h',
  doc: 'One virtual IDT entry for set_trap_table; an array of them ends with address == 0.',
  fields: [
    f('vector', 0, 1, 'uint8_t', 'Exception/interrupt vector.'),
    f('flags', 1, 1, 'uint8_t', 'Bits 0-1: DPL allowed to raise it with int n; bit 2: mask events on entry (interrupt gate).'),
    f('cs', 2, 2, 'uint16_t', 'Code selector of the handler (RPL 0 is forced to 1).'),
    f('address', 4, 4, 'unsigned long', 'Handler offset.'),
  ],
};

export const CPU_USER_REGS: StructLayout = {
  name: 'cpu_user_regs', size: 68, align: 4, header: 'arch-x86/xen-x86_32.h',
  doc: 'A vCPU\'s registers (x86_32), as in vcpu_guest_context.user_regs.',
  fields: [
    f('ebx', 0, 4, 'uint32_t', 'EBX.'),
    f('ecx', 4, 4, 'uint32_t', 'ECX.'),
    f('edx', 8, 4, 'uint32_t', 'EDX.'),
    f('esi', 12, 4, 'uint32_t', 'ESI.'),
    f('edi', 16, 4, 'uint32_t', 'EDI.'),
    f('ebp', 20, 4, 'uint32_t', 'EBP.'),
    f('eax', 24, 4, 'uint32_t', 'EAX.'),
    f('error_code', 28, 2, 'uint16_t', 'Private to Xen.'),
    f('entry_vector', 30, 2, 'uint16_t', 'Private to Xen.'),
    f('eip', 32, 4, 'uint32_t', 'EIP.'),
    f('cs', 36, 2, 'uint16_t', 'CS (an RPL of 0 is made 1).'),
    f('saved_upcall_mask', 38, 1, 'uint8_t', 'evtchn_upcall_mask to restore.'),
    f('_pad0', 39, 1, 'uint8_t', 'Padding.'),
    f('eflags', 40, 4, 'uint32_t', 'EFLAGS (IF is the inverse of saved_upcall_mask; IOPL is Xen\'s).'),
    f('esp', 44, 4, 'uint32_t', 'ESP.'),
    f('ss', 48, 2, 'uint16_t', 'SS.'),
    f('_pad1', 50, 2, 'uint16_t', 'Padding.'),
    f('es', 52, 2, 'uint16_t', 'ES.'),
    f('_pad2', 54, 2, 'uint16_t', 'Padding.'),
    f('ds', 56, 2, 'uint16_t', 'DS.'),
    f('_pad3', 58, 2, 'uint16_t', 'Padding.'),
    f('fs', 60, 2, 'uint16_t', 'FS.'),
    f('_pad4', 62, 2, 'uint16_t', 'Padding.'),
    f('gs', 64, 2, 'uint16_t', 'GS.'),
    f('_pad5', 66, 2, 'uint16_t', 'Padding.'),
  ],
};

export const VCPU_GUEST_CONTEXT: StructLayout = {
  name: 'vcpu_guest_context', size: 2800, align: 4, header: 'arch-x86/xen.h',
  doc: 'A vCPU\'s whole state (x86_32): what VCPUOP_initialise starts a secondary vCPU with.',
  fields: [
    f('fpu_ctxt.x', 0, 512, 'char[512]', 'FXSAVE area (used when flags has VGCF_I387_VALID).', { count: 512 }),
    f('flags', 512, 4, 'unsigned long', 'VGCF_* flags.'),
    f('user_regs', 516, 68, 'struct cpu_user_regs', 'General, segment and flag registers, EIP.', { struct: 'cpu_user_regs' }),
    f('trap_ctxt', 584, 2048, 'struct trap_info[256]', 'The virtual IDT, by vector (address 0: no handler).', { count: 256, struct: 'trap_info' }),
    f('ldt_base', 2632, 4, 'unsigned long', 'LDT linear address.'),
    f('ldt_ents', 2636, 4, 'unsigned long', 'LDT entries.'),
    f('gdt_frames', 2640, 64, 'unsigned long[16]', 'GDT machine frames (as set_gdt takes them).', { count: 16 }),
    f('gdt_ents', 2704, 4, 'unsigned long', 'GDT entries.'),
    f('kernel_ss', 2708, 4, 'unsigned long', 'Kernel stack segment (the virtual TSS SS1).'),
    f('kernel_sp', 2712, 4, 'unsigned long', 'Kernel stack pointer (the virtual TSS ESP1).'),
    f('ctrlreg', 2716, 32, 'unsigned long[8]', 'CR0-CR7; ctrlreg[3] is the page directory\'s machine address (xen_pfn_to_cr3).', { count: 8 }),
    f('debugreg', 2748, 32, 'unsigned long[8]', 'DR0-DR7.', { count: 8 }),
    f('event_callback_cs', 2780, 4, 'unsigned long', 'Event callback code selector.'),
    f('event_callback_eip', 2784, 4, 'unsigned long', 'Event callback address.'),
    f('failsafe_callback_cs', 2788, 4, 'unsigned long', 'Failsafe callback code selector.'),
    f('failsafe_callback_eip', 2792, 4, 'unsigned long', 'Failsafe callback address.'),
    f('vm_assist', 2796, 4, 'unsigned long', 'VMASST_TYPE_* bitmap.'),
  ],
};

export const MMU_UPDATE: StructLayout = {
  name: 'mmu_update', size: 16, align: 4, header: 'xen.h',
  doc: 'One mmu_update request.',
  fields: [
    f('ptr', 0, 8, 'uint64_t', 'Machine address of the PTE (or frame for MMU_MACHPHYS_UPDATE) | MMU_* command in bits 0-1.'),
    f('val', 8, 8, 'uint64_t', 'New PTE contents (machine address | flags) or new M2P entry.'),
  ],
};

export const MMUEXT_OP: StructLayout = {
  name: 'mmuext_op', size: 12, align: 4, header: 'xen.h',
  doc: 'One mmuext_op request.',
  fields: [
    f('cmd', 0, 4, 'unsigned int', 'MMUEXT_* command.'),
    f('arg1.mfn', 4, 4, 'xen_pfn_t', 'Frame for PIN/UNPIN, NEW_BASEPTR, CLEAR_PAGE, COPY_PAGE (destination), [UN]MARK_SUPER.', { union: 'arg1' }),
    f('arg1.linear_addr', 4, 4, 'unsigned long', 'Virtual address for INVLPG_* and SET_LDT.', { union: 'arg1' }),
    f('arg2.nr_ents', 8, 4, 'unsigned int', 'SET_LDT: number of LDT entries.', { union: 'arg2' }),
    f('arg2.vcpumask', 8, 4, 'XEN_GUEST_HANDLE(const_void)', 'TLB_FLUSH_MULTI / INVLPG_MULTI: pointer to a vCPU bitmap.', { union: 'arg2' }),
    f('arg2.src_mfn', 8, 4, 'xen_pfn_t', 'COPY_PAGE: source frame.', { union: 'arg2' }),
  ],
};

export const MULTICALL_ENTRY: StructLayout = {
  name: 'multicall_entry', size: 32, align: 4, header: 'xen.h',
  doc: 'One entry of a multicall batch.',
  fields: [
    f('op', 0, 4, 'xen_ulong_t', 'Hypercall number.'),
    f('result', 4, 4, 'xen_ulong_t', 'Return value of that hypercall (written by Xen).'),
    f('args', 8, 24, 'xen_ulong_t[6]', 'Arguments (Xen uses args[0..4]).', { count: 6 }),
  ],
};

export const VCPU_TIME_INFO: StructLayout = {
  name: 'vcpu_time_info', size: 32, align: 4, header: 'xen.h',
  doc: 'Per-vCPU system-time parameters: now = system_time + ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32).',
  fields: [
    f('version', 0, 4, 'uint32_t', 'Incremented before and after each update; odd = update in progress.'),
    f('pad0', 4, 4, 'uint32_t', 'Padding.'),
    f('tsc_timestamp', 8, 8, 'uint64_t', 'TSC at the last update.'),
    f('system_time', 16, 8, 'uint64_t', 'Nanoseconds since boot at the last update.'),
    f('tsc_to_system_mul', 24, 4, 'uint32_t', 'TSC-to-ns multiplier (32.32 fixed point).'),
    f('tsc_shift', 28, 1, 'int8_t', 'Shift applied to the TSC delta before multiplying.'),
    f('flags', 29, 1, 'uint8_t', 'XEN_PVCLOCK_* bits.'),
    f('pad1', 30, 2, 'uint8_t[2]', 'Padding.', { count: 2 }),
  ],
};

export const ARCH_VCPU_INFO: StructLayout = {
  name: 'arch_vcpu_info', size: 24, align: 4, header: 'arch-x86/xen-x86_32.h',
  doc: 'x86_32 part of vcpu_info.',
  fields: [
    f('cr2', 0, 4, 'unsigned long', 'Faulting address of the last page fault (the virtual CR2).'),
    f('pad', 4, 20, 'unsigned long[5]', 'Padding (keeps vcpu_info at 64 bytes).', { count: 5 }),
  ],
};

export const VCPU_INFO: StructLayout = {
  name: 'vcpu_info', size: 64, align: 4, header: 'xen.h',
  doc: 'Per-vCPU event and time state shared with Xen (shared_info.vcpu_info[n]).',
  fields: [
    f('evtchn_upcall_pending', 0, 1, 'uint8_t', 'Set by Xen when an unmasked event arrives; the guest clears it before scanning.'),
    f('evtchn_upcall_mask', 1, 1, 'uint8_t', 'Virtual "interrupts disabled": non-zero stops upcalls to this vCPU.'),
    f('evtchn_pending_sel', 4, 4, 'xen_ulong_t', 'One bit per word of shared_info.evtchn_pending with pending ports.'),
    f('arch', 8, 24, 'struct arch_vcpu_info', 'x86_32 state (cr2).', { struct: 'arch_vcpu_info' }),
    f('time', 32, 32, 'struct vcpu_time_info', 'System-time parameters.', { struct: 'vcpu_time_info' }),
  ],
};

export const ARCH_SHARED_INFO: StructLayout = {
  name: 'arch_shared_info', size: 28, align: 4, header: 'arch-x86/xen.h',
  doc: 'x86 part of shared_info (P2M bookkeeping for the tools, NMI reason).',
  fields: [
    f('max_pfn', 0, 4, 'unsigned long', 'Number of valid P2M entries.'),
    f('pfn_to_mfn_frame_list_list', 4, 4, 'xen_pfn_t', 'Frame of the list of frames of the P2M frame list (0 = not set).'),
    f('nmi_reason', 8, 4, 'unsigned long', 'XEN_NMIREASON_* bits.'),
    f('p2m_cr3', 12, 4, 'unsigned long', 'CR3 of the address space holding the linear P2M list (0 = none).'),
    f('p2m_vaddr', 16, 4, 'unsigned long', 'Virtual address of the linear P2M list.'),
    f('p2m_generation', 20, 4, 'unsigned long', 'Incremented around P2M mapping changes.'),
    f('wc_sec_hi', 24, 4, 'uint32_t', 'High 32 bits of the wall-clock seconds (i386 only).'),
  ],
};

export const SHARED_INFO: StructLayout = {
  name: 'shared_info', size: 2344, align: 4, header: 'xen.h',
  doc: 'The shared-info page; its machine address is start_info.shared_info.',
  fields: [
    f('vcpu_info', 0, 2048, 'struct vcpu_info[32]', 'Per-vCPU state, XEN_LEGACY_MAX_VCPUS entries.', { count: 32, struct: 'vcpu_info' }),
    f('evtchn_pending', 2048, 128, 'xen_ulong_t[32]', 'Pending bit per event-channel port (1024 ports).', { count: 32 }),
    f('evtchn_mask', 2176, 128, 'xen_ulong_t[32]', 'Mask bit per port; a masked port never triggers an upcall.', { count: 32 }),
    f('wc_version', 2304, 4, 'uint32_t', 'Version counter of wc_* (odd = update in progress).'),
    f('wc_sec', 2308, 4, 'uint32_t', 'Wall-clock seconds at system time 0.'),
    f('wc_nsec', 2312, 4, 'uint32_t', 'Wall-clock nanoseconds at system time 0.'),
    f('arch', 2316, 28, 'struct arch_shared_info', 'x86 part.', { struct: 'arch_shared_info' }),
  ],
};

export const START_INFO: StructLayout = {
  name: 'start_info', size: 1112, align: 4, header: 'xen.h',
  doc: 'Boot information; ESI holds its virtual address at the PV entry point.',
  fields: [
    f('magic', 0, 32, 'char[32]', '"xen-<version>-<platform>", e.g. "xen-3.0-x86_32".', { count: 32 }),
    f('nr_pages', 32, 4, 'unsigned long', 'Pages allocated to the domain.'),
    f('shared_info', 36, 4, 'unsigned long', 'MACHINE address of the shared_info page.'),
    f('flags', 40, 4, 'uint32_t', 'SIF_* flags.'),
    f('store_mfn', 44, 4, 'xen_pfn_t', 'MACHINE frame of the xenstore ring page.'),
    f('store_evtchn', 48, 4, 'uint32_t', 'Event channel of the xenstore ring.'),
    f('console.domU.mfn', 52, 4, 'xen_pfn_t', 'domU: MACHINE frame of the console ring page.', { union: 'console' }),
    f('console.dom0.info_off', 52, 4, 'uint32_t', 'dom0: offset of the console_info struct.', { union: 'console' }),
    f('console.domU.evtchn', 56, 4, 'uint32_t', 'domU: event channel of the console ring.', { union: 'console' }),
    f('console.dom0.info_size', 56, 4, 'uint32_t', 'dom0: size of the console_info struct.', { union: 'console' }),
    f('pt_base', 60, 4, 'unsigned long', 'VIRTUAL address of the bootstrap page directory.'),
    f('nr_pt_frames', 64, 4, 'unsigned long', 'Number of bootstrap page-table frames.'),
    f('mfn_list', 68, 4, 'unsigned long', 'VIRTUAL address of the P2M list (mfn_list[pfn] = mfn).'),
    f('mod_start', 72, 4, 'unsigned long', 'VIRTUAL address (or PFN with SIF_MOD_START_PFN) of the initrd/module.'),
    f('mod_len', 76, 4, 'unsigned long', 'Size of the module in bytes.'),
    f('cmd_line', 80, 1024, 'int8_t[1024]', 'Kernel command line (NUL-terminated).', { count: 1024 }),
    f('first_p2m_pfn', 1104, 4, 'unsigned long', 'First PFN of the initial P2M table.'),
    f('nr_p2m_frames', 1108, 4, 'unsigned long', 'Number of PFNs of the initial P2M table.'),
  ],
};

export const XEN_CALLBACK: StructLayout = {
  name: 'xen_callback', size: 8, align: 4, header: 'arch-x86/xen-x86_32.h',
  doc: 'A callback entry point as CS:EIP.',
  fields: [
    f('cs', 0, 4, 'unsigned long', 'Code selector.'),
    f('eip', 4, 4, 'unsigned long', 'Entry address.'),
  ],
};

export const CALLBACK_REGISTER: StructLayout = {
  name: 'callback_register', size: 12, align: 4, header: 'callback.h',
  doc: 'Argument of CALLBACKOP_register.',
  fields: [
    f('type', 0, 2, 'uint16_t', 'CALLBACKTYPE_*.'),
    f('flags', 2, 2, 'uint16_t', 'CALLBACKF_* flags.'),
    f('address', 4, 8, 'xen_callback_t', 'Entry point.', { struct: 'xen_callback' }),
  ],
};

export const CALLBACK_UNREGISTER: StructLayout = {
  name: 'callback_unregister', size: 4, align: 2, header: 'callback.h',
  doc: 'Argument of CALLBACKOP_unregister.',
  fields: [
    f('type', 0, 2, 'uint16_t', 'CALLBACKTYPE_*.'),
    f('_unused', 2, 2, 'uint16_t', 'Unused.'),
  ],
};

export const XEN_PLATFORM_PARAMETERS: StructLayout = {
  name: 'xen_platform_parameters', size: 4, align: 4, header: 'version.h',
  doc: 'Result of XENVER_platform_parameters.',
  fields: [
    f('virt_start', 0, 4, 'xen_ulong_t', 'Start of the hypervisor hole (HYPERVISOR_VIRT_START).'),
  ],
};

export const XEN_FEATURE_INFO: StructLayout = {
  name: 'xen_feature_info', size: 8, align: 4, header: 'version.h',
  doc: 'Argument of XENVER_get_features.',
  fields: [
    f('submap_idx', 0, 4, 'unsigned int', 'IN: which 32-bit submap (0 for XENFEAT_* 0..31).'),
    f('submap', 4, 4, 'uint32_t', 'OUT: the submap.'),
  ],
};

export const SCHED_SHUTDOWN: StructLayout = {
  name: 'sched_shutdown', size: 4, align: 4, header: 'sched.h',
  doc: 'Argument of SCHEDOP_shutdown and SCHEDOP_shutdown_code.',
  fields: [
    f('reason', 0, 4, 'unsigned int', 'SHUTDOWN_* reason.'),
  ],
};

export const SCHED_POLL: StructLayout = {
  name: 'sched_poll', size: 16, align: 4, header: 'sched.h',
  doc: 'Argument of SCHEDOP_poll.',
  fields: [
    f('ports', 0, 4, 'XEN_GUEST_HANDLE(evtchn_port_t)', 'Pointer to the array of ports to wait on.'),
    f('nr_ports', 4, 4, 'unsigned int', 'Number of ports (at most 128).'),
    f('timeout', 8, 8, 'uint64_t', 'Absolute system time in ns to give up at (0 = none).'),
  ],
};

export const SCHED_REMOTE_SHUTDOWN: StructLayout = {
  name: 'sched_remote_shutdown', size: 8, align: 4, header: 'sched.h',
  doc: 'Argument of SCHEDOP_remote_shutdown.',
  fields: [
    f('domain_id', 0, 2, 'domid_t', 'Domain to shut down.'),
    f('reason', 4, 4, 'unsigned int', 'SHUTDOWN_* reason.'),
  ],
};

export const VCPU_RUNSTATE_INFO: StructLayout = {
  name: 'vcpu_runstate_info', size: 44, align: 4, header: 'vcpu.h',
  doc: 'What VCPUOP_get_runstate_info writes: the vCPU\'s run state, since when, and the time spent in each.',
  fields: [
    f('state', 0, 4, 'int', 'RUNSTATE_* the vCPU is in.'),
    f('state_entry_time', 4, 8, 'uint64_t', 'System time (ns) when it entered that state.'),
    f('time', 12, 32, 'uint64_t[4]', 'Nanoseconds spent in each RUNSTATE_*, up to state_entry_time.', { count: 4 }),
  ],
};

export const VCPU_SET_PERIODIC_TIMER: StructLayout = {
  name: 'vcpu_set_periodic_timer', size: 8, align: 4, header: 'vcpu.h',
  doc: 'Argument of VCPUOP_set_periodic_timer.',
  fields: [
    f('period_ns', 0, 8, 'uint64_t', 'Period in nanoseconds.'),
  ],
};

export const VCPU_SET_SINGLESHOT_TIMER: StructLayout = {
  name: 'vcpu_set_singleshot_timer', size: 12, align: 4, header: 'vcpu.h',
  doc: 'Argument of VCPUOP_set_singleshot_timer.',
  fields: [
    f('timeout_abs_ns', 0, 8, 'uint64_t', 'Absolute system time in ns.'),
    f('flags', 8, 4, 'uint32_t', 'VCPU_SSHOTTMR_* flags.'),
  ],
};

export const VCPU_REGISTER_VCPU_INFO: StructLayout = {
  name: 'vcpu_register_vcpu_info', size: 16, align: 4, header: 'vcpu.h',
  doc: 'Argument of VCPUOP_register_vcpu_info.',
  fields: [
    f('mfn', 0, 8, 'uint64_t', 'Frame that will hold the vcpu_info.'),
    f('offset', 8, 4, 'uint32_t', 'Offset of the vcpu_info within that frame.'),
    f('rsvd', 12, 4, 'uint32_t', 'Unused.'),
  ],
};

export const PHYSDEV_SET_IOPL: StructLayout = {
  name: 'physdev_set_iopl', size: 4, align: 4, header: 'physdev.h',
  doc: 'Argument of PHYSDEVOP_set_iopl.',
  fields: [
    f('iopl', 0, 4, 'uint32_t', 'New virtual IOPL (0-3).'),
  ],
};

export const PHYSDEV_SET_IOBITMAP: StructLayout = {
  name: 'physdev_set_iobitmap', size: 8, align: 4, header: 'physdev.h',
  doc: 'Argument of PHYSDEVOP_set_iobitmap: the guest\'s I/O permission bitmap (a set bit refuses the port).',
  fields: [
    f('bitmap', 0, 4, 'XEN_GUEST_HANDLE(uint8)', 'Guest virtual address of the bitmap.'),
    f('nr_ports', 4, 4, 'uint32_t', 'Ports the bitmap covers (at most 65536).'),
  ],
};

export const PHYSDEV_EOI: StructLayout = {
  name: 'physdev_eoi', size: 4, align: 4, header: 'physdev.h',
  doc: 'Argument of PHYSDEVOP_eoi.',
  fields: [
    f('irq', 0, 4, 'uint32_t', 'The physical IRQ (PIRQ) handled.'),
  ],
};

export const PHYSDEV_IRQ_STATUS_QUERY: StructLayout = {
  name: 'physdev_irq_status_query', size: 8, align: 4, header: 'physdev.h',
  doc: 'Argument of PHYSDEVOP_irq_status_query.',
  fields: [
    f('irq', 0, 4, 'uint32_t', 'IN: the physical IRQ (PIRQ).'),
    f('flags', 4, 4, 'uint32_t', 'OUT: XENIRQSTAT_* flags.'),
  ],
};

export const XEN_MEMORY_RESERVATION: StructLayout = {
  name: 'xen_memory_reservation', size: 20, align: 4, header: 'memory.h',
  doc: 'Argument of XENMEM_increase_reservation, decrease_reservation and populate_physmap.',
  fields: [
    f('extent_start', 0, 4, 'XEN_GUEST_HANDLE(xen_pfn_t)', 'Array of extent base frames (in or out, by command).'),
    f('nr_extents', 4, 4, 'xen_ulong_t', 'Number of extents.'),
    f('extent_order', 8, 4, 'unsigned int', 'Each extent is 2^extent_order pages.'),
    f('mem_flags', 12, 4, 'unsigned int', 'XENMEMF_* flags.'),
    f('domid', 16, 2, 'domid_t', 'Domain whose reservation changes (DOMID_SELF if unprivileged).'),
  ],
};
