// Xen hypercall numbers (xen/include/public/xen.h) with the argument lists a 32-bit PV
// guest uses (the pv32 column of xen/include/hypercall-defs.c: compat handlers take
// 64-bit values as two 32-bit words).

import type { Hypercall, HypercallArg } from './types.js';

/** Registers that carry hypercall arguments 1..5, in order. EAX holds the number and the result. */
export const HYPERCALL_ARG_REGISTERS = ['ebx', 'ecx', 'edx', 'esi', 'edi'] as const;

function a(name: string, cType: string): HypercallArg {
  return { name, cType };
}

export const HYPERCALLS: readonly Hypercall[] = [
  { number: 0, name: 'set_trap_table', star: true, args: [a('traps', 'const struct trap_info *')],
    doc: 'Install (or, with NULL, clear) virtual IDT entries; the array ends with an entry whose address is 0.' },
  { number: 1, name: 'mmu_update', star: true,
    args: [a('reqs', 'struct mmu_update *'), a('count', 'unsigned int'), a('pdone', 'unsigned int *'), a('foreigndom', 'unsigned int')],
    doc: 'Batch of validated page-table writes / M2P updates; ptr is a machine address whose low 2 bits are an MMU_* command.' },
  { number: 2, name: 'set_gdt', star: true, args: [a('frame_list', 'unsigned int *'), a('entries', 'unsigned int')],
    doc: 'Replace the GDT with the given machine frames (replacement for lgdt).' },
  { number: 3, name: 'stack_switch', star: true, args: [a('ss', 'unsigned long'), a('esp', 'unsigned long')],
    doc: 'Set the ring-1 stack used when a trap arrives from ring 3 (the virtual TSS SS1:ESP1).' },
  { number: 4, name: 'set_callbacks', star: true,
    args: [a('event_selector', 'unsigned long'), a('event_address', 'unsigned long'), a('failsafe_selector', 'unsigned long'), a('failsafe_address', 'unsigned long')],
    doc: 'Register the event-upcall and failsafe callback entry points.' },
  { number: 5, name: 'fpu_taskswitch', star: true, args: [a('set', 'int')],
    doc: 'Set (non-zero) or clear (0) the virtual CR0.TS; replacement for clts.' },
  { number: 6, name: 'sched_op_compat', star: false, args: [a('cmd', 'int'), a('arg', 'unsigned long')],
    doc: 'Legacy sched_op (before interface 0x00030101); arg is the shutdown reason.' },
  { number: 7, name: 'platform_op', star: false, args: [a('op', 'struct xen_platform_op *')],
    doc: 'Privileged platform control (formerly dom0_op).' },
  { number: 8, name: 'set_debugreg', star: false, args: [a('reg', 'int'), a('value', 'unsigned long')],
    doc: 'Validated write of debug register DRn.' },
  { number: 9, name: 'get_debugreg', star: false, args: [a('reg', 'int')],
    doc: 'Read debug register DRn (returned in EAX).' },
  { number: 10, name: 'update_descriptor', star: false,
    args: [a('pa_lo', 'uint32_t'), a('pa_hi', 'uint32_t'), a('desc_lo', 'uint32_t'), a('desc_hi', 'uint32_t')],
    doc: 'Validated write of one GDT/LDT descriptor at a machine address.' },
  { number: 12, name: 'memory_op', star: true, args: [a('cmd', 'unsigned int'), a('arg', 'void *')],
    doc: 'Memory reservation and physmap operations (XENMEM_*).' },
  { number: 13, name: 'multicall', star: true, args: [a('call_list', 'struct multicall_entry *'), a('nr_calls', 'uint32_t')],
    doc: 'Run a batch of hypercalls; each entry gets its own result, a failing entry does not stop the batch.' },
  { number: 14, name: 'update_va_mapping', star: true,
    args: [a('va', 'unsigned int'), a('val_lo', 'uint32_t'), a('val_hi', 'uint32_t'), a('flags', 'unsigned int')],
    doc: 'Validated write of the L1 entry mapping va in the current page tables, then flush as UVMF_* says.' },
  { number: 15, name: 'set_timer_op', star: true, args: [a('timeout_lo', 'uint32_t'), a('timeout_hi', 'int32_t')],
    doc: 'One-shot timer at an absolute system time in ns (0 cancels); fires VIRQ_TIMER.' },
  { number: 16, name: 'event_channel_op_compat', star: false, args: [a('op', 'struct evtchn_op *')],
    doc: 'Legacy event_channel_op (before interface 0x00030202).' },
  { number: 17, name: 'xen_version', star: true, args: [a('cmd', 'int'), a('arg', 'void *')],
    doc: 'Query the hypervisor version and properties (XENVER_*).' },
  { number: 18, name: 'console_io', star: true, args: [a('cmd', 'unsigned int'), a('count', 'unsigned int'), a('buffer', 'char *')],
    doc: 'Read/write the Xen emergency console (CONSOLEIO_*).' },
  { number: 19, name: 'physdev_op_compat', star: false, args: [a('op', 'struct physdev_op *')],
    doc: 'Legacy physdev_op (before interface 0x00030202).' },
  { number: 20, name: 'grant_table_op', star: true, args: [a('cmd', 'unsigned int'), a('uop', 'void *'), a('count', 'unsigned int')],
    doc: 'Grant-table operations (GNTTABOP_*) on an array of count structs.' },
  { number: 21, name: 'vm_assist', star: true, args: [a('cmd', 'unsigned int'), a('type', 'unsigned int')],
    doc: 'Enable/disable a VM assist (VMASST_CMD_*, VMASST_TYPE_*).' },
  { number: 22, name: 'update_va_mapping_otherdomain', star: false,
    args: [a('va', 'unsigned int'), a('val_lo', 'uint32_t'), a('val_hi', 'uint32_t'), a('flags', 'unsigned int'), a('domid', 'domid_t')],
    doc: 'update_va_mapping mapping a frame of another domain (privileged).' },
  { number: 23, name: 'iret', star: true, args: [],
    doc: 'Return from exception restoring the virtual IF; jump (not call) to its hypercall-page stub with the frame on the stack.' },
  { number: 24, name: 'vcpu_op', star: false, args: [a('cmd', 'int'), a('vcpuid', 'unsigned int'), a('arg', 'void *')],
    doc: 'Per-vCPU operations (VCPUOP_*): bring up/down, timers, vcpu_info placement.' },
  { number: 25, name: 'set_segment_base', star: false, args: [a('which', 'unsigned int'), a('base', 'unsigned long')],
    doc: 'x86-64 PV only (FS/GS base); 32-bit guests get -ENOSYS.', enosys: 'it is for 64-bit PV guests (FS/GS bases)' },
  { number: 26, name: 'mmuext_op', star: true,
    args: [a('uops', 'struct mmuext_op *'), a('count', 'unsigned int'), a('pdone', 'unsigned int *'), a('foreigndom', 'unsigned int')],
    doc: 'Extended MMU operations (MMUEXT_*): pin/unpin tables, new CR3, TLB flushes, set LDT.' },
  { number: 27, name: 'xsm_op', star: false, args: [a('op', 'void *')],
    doc: 'Xen security module operations.' },
  { number: 28, name: 'nmi_op', star: false, args: [a('cmd', 'unsigned int'), a('arg', 'void *')],
    doc: 'Register/unregister the NMI callback (XENNMI_*).' },
  { number: 29, name: 'sched_op', star: true, args: [a('cmd', 'int'), a('arg', 'void *')],
    doc: 'Scheduler operations (SCHEDOP_*): yield, block, shutdown, poll.' },
  { number: 30, name: 'callback_op', star: false, args: [a('cmd', 'int'), a('arg', 'const void *')],
    doc: 'Generic callback (un)registration (CALLBACKOP_*).' },
  { number: 31, name: 'xenoprof_op', star: false, args: [a('op', 'int'), a('arg', 'void *')],
    doc: 'Xen oprofile interface (removed from recent Xen).' },
  { number: 32, name: 'event_channel_op', star: true, args: [a('cmd', 'int'), a('arg', 'void *')],
    doc: 'Event-channel operations (EVTCHNOP_*).' },
  { number: 33, name: 'physdev_op', star: false, args: [a('cmd', 'int'), a('arg', 'void *')],
    doc: 'Physical-device operations (PHYSDEVOP_*), e.g. set_iopl.' },
  { number: 34, name: 'hvm_op', star: false, args: [a('op', 'unsigned long'), a('arg', 'void *')],
    doc: 'HVM guest operations.' },
  { number: 35, name: 'sysctl', star: false, args: [a('op', 'struct xen_sysctl *')],
    doc: 'Privileged system control (toolstack).' },
  { number: 36, name: 'domctl', star: true, args: [a('op', 'struct xen_domctl *')],
    doc: 'Privileged domain control (create, pause, destroy, ...); unprivileged callers get -EPERM.' },
  { number: 37, name: 'kexec_op', star: false, args: [a('op', 'unsigned int'), a('uarg', 'void *')],
    doc: 'Load/execute a crash or replacement kernel (privileged).' },
  { number: 38, name: 'tmem_op', star: false, args: [],
    doc: 'Transcendent memory; no handler any more (-ENOSYS).', enosys: 'transcendent memory was removed from Xen' },
  { number: 39, name: 'argo_op', star: false,
    args: [a('cmd', 'unsigned int'), a('arg1', 'void *'), a('arg2', 'void *'), a('arg3', 'unsigned long'), a('arg4', 'unsigned long')],
    doc: 'Argo inter-domain messaging.' },
  { number: 40, name: 'xenpmu_op', star: false, args: [a('op', 'unsigned int'), a('arg', 'struct xen_pmu_params *')],
    doc: 'Virtual performance-monitoring unit.' },
  { number: 41, name: 'dm_op', star: false, args: [a('domid', 'domid_t'), a('nr_bufs', 'unsigned int'), a('bufs', 'void *')],
    doc: 'Device-model operations on an HVM domain.' },
  { number: 42, name: 'hypfs_op', star: false,
    args: [a('cmd', 'unsigned int'), a('arg1', 'const char *'), a('arg2', 'unsigned long'), a('arg3', 'void *'), a('arg4', 'unsigned long')],
    doc: 'Hypervisor file-system access.' },
  { number: 48, name: 'arch_0', star: false, args: [a('op', 'struct xen_mc *')],
    doc: 'Architecture-specific 0; on x86 the machine-check interface (__HYPERVISOR_mca).' },
  { number: 49, name: 'arch_1', star: false, args: [a('op', 'struct xen_domctl *')],
    doc: 'Architecture-specific 1; on x86 used internally as paging_domctl_cont.' },
  { number: 50, name: 'arch_2', star: false, args: [], doc: 'Architecture-specific 2 (no x86 handler).', enosys: 'x86 has no handler for it' },
  { number: 51, name: 'arch_3', star: false, args: [], doc: 'Architecture-specific 3 (no x86 handler).', enosys: 'x86 has no handler for it' },
  { number: 52, name: 'arch_4', star: false, args: [], doc: 'Architecture-specific 4 (no x86 handler).', enosys: 'x86 has no handler for it' },
  { number: 53, name: 'arch_5', star: false, args: [], doc: 'Architecture-specific 5 (no x86 handler).', enosys: 'x86 has no handler for it' },
  { number: 54, name: 'arch_6', star: false, args: [], doc: 'Architecture-specific 6 (no x86 handler).', enosys: 'x86 has no handler for it' },
  { number: 55, name: 'arch_7', star: false, args: [], doc: 'Architecture-specific 7 (no x86 handler).', enosys: 'x86 has no handler for it' },
];

const BY_NAME = new Map(HYPERCALLS.map((h) => [h.name, h]));
const BY_NUMBER = new Map(HYPERCALLS.map((h) => [h.number, h]));

/** Looks a hypercall up by name, without the `__HYPERVISOR_` prefix. */
export function hypercallByName(name: string): Hypercall | undefined {
  return BY_NAME.get(name);
}

/** Looks a hypercall up by its number (EAX); undefined for unassigned numbers such as 11. */
export function hypercallByNumber(num: number): Hypercall | undefined {
  return BY_NUMBER.get(num);
}
