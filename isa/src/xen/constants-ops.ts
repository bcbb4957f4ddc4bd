// Sub-commands of the smaller hypercalls: console_io, xen_version, sched_op, vcpu_op,
// callback_op, nmi_op and physdev_op, plus the feature bits XENVER_get_features reports.

import { c } from './define.js';
import type { XenConstantGroup } from './types.js';

export const CONSOLEIO: XenConstantGroup = {
  id: 'CONSOLEIO',
  doc: 'console_io commands.',
  source: 'xen/include/public/xen.h',
  distinct: true,
  constants: [
    c('CONSOLEIO_write', 0, 'Write count bytes from buffer to the Xen console.'),
    c('CONSOLEIO_read', 1, 'Read up to count bytes; returns the number read.'),
  ],
};

export const XENVER: XenConstantGroup = {
  id: 'XENVER',
  doc: 'xen_version commands.',
  source: 'xen/include/public/version.h',
  distinct: true,
  constants: [
    c('XENVER_version', 0, 'Returns (major << 16) | minor; arg unused.'),
    c('XENVER_extraversion', 1, 'Extra version string (16 bytes).'),
    c('XENVER_compile_info', 2, 'Compiler, user, domain and date of the build.'),
    c('XENVER_capabilities', 3, 'Capabilities string, e.g. "xen-3.0-x86_32" (1024 bytes).'),
    c('XENVER_changeset', 4, 'Source changeset (64 bytes).'),
    c('XENVER_platform_parameters', 5, 'Fills struct xen_platform_parameters (virt_start).'),
    c('XENVER_get_features', 6, 'Fills struct xen_feature_info with one 32-bit XENFEAT_* submap.'),
    c('XENVER_pagesize', 7, 'Returns the host page size; arg NULL.'),
    c('XENVER_guest_handle', 8, 'Domain handle filled in by the toolstack (meant to be the guest UUID).'),
    c('XENVER_commandline', 9, 'Xen\'s command line (1024 bytes).'),
    c('XENVER_build_id', 10, 'Build id of the hypervisor; returns the bytes written.'),
  ],
};

export const XENFEAT: XenConstantGroup = {
  id: 'XENFEAT',
  doc: 'Feature bit numbers of XENVER_get_features (also named, without prefix, in the FEATURES ELF note).',
  source: 'xen/include/public/features.h',
  distinct: true,
  constants: [
    c('XENFEAT_writable_page_tables', 0, 'Guest need not write-protect its page tables and may write them directly.'),
    c('XENFEAT_writable_descriptor_tables', 1, 'Guest need not write-protect its descriptor tables and may write them directly.'),
    c('XENFEAT_auto_translated_physmap', 2, 'Xen translates pseudo-physical addresses (no P2M needed).'),
    c('XENFEAT_supervisor_mode_kernel', 3, 'Guest kernel runs in supervisor mode (ring 0).'),
    c('XENFEAT_pae_pgdir_above_4gb', 4, 'PAE page directories need not be below 4 GiB.'),
    c('XENFEAT_mmu_pt_update_preserve_ad', 5, 'MMU_PT_UPDATE_PRESERVE_AD is supported.'),
    c('XENFEAT_highmem_assist', 6, 'MMUEXT_CLEAR_PAGE / MMUEXT_COPY_PAGE are supported.'),
    c('XENFEAT_gnttab_map_avail_bits', 7, 'GNTTABOP_map_grant_ref honours flags for the guest-available PTE bits.'),
    c('XENFEAT_hvm_callback_vector', 8, 'HVM: event delivery via a callback vector.'),
    c('XENFEAT_hvm_safe_pvclock', 9, 'HVM: pvclock is safe to use.'),
    c('XENFEAT_hvm_pirqs', 10, 'HVM: physical IRQs via event channels.'),
    c('XENFEAT_dom0', 11, 'The domain is dom0.'),
    c('XENFEAT_memory_op_vnode_supported', 13, 'memory_op accepts XENMEMF_vnode (virtual NUMA node).'),
    c('XENFEAT_ARM_SMCCC_supported', 14, 'Arm: SMCCC calls are supported.'),
    c('XENFEAT_linux_rsdp_unrestricted', 15, 'x86/PVH: the ACPI RSDP may be placed at any address.'),
    c('XENFEAT_not_direct_mapped', 16, 'Domain memory is not direct mapped (gfn != mfn).'),
    c('XENFEAT_direct_mapped', 17, 'Domain memory is direct mapped (gfn == mfn).'),
  ],
};

export const SCHEDOP: XenConstantGroup = {
  id: 'SCHEDOP',
  doc: 'sched_op commands.',
  source: 'xen/include/public/sched.h',
  distinct: true,
  constants: [
    c('SCHEDOP_yield', 0, 'Give up the CPU, stay runnable; arg NULL.'),
    c('SCHEDOP_block', 1, 'Clear evtchn_upcall_mask and block until an event is pending (the PV hlt); arg NULL.'),
    c('SCHEDOP_shutdown', 2, 'Shut the domain down; arg -> struct sched_shutdown.'),
    c('SCHEDOP_poll', 3, 'Block until one of the ports is pending or timeout; arg -> struct sched_poll.'),
    c('SCHEDOP_remote_shutdown', 4, 'Shut another domain down (privileged); arg -> struct sched_remote_shutdown.'),
    c('SCHEDOP_shutdown_code', 5, 'Latch the shutdown code without shutting down; arg -> struct sched_shutdown.'),
    c('SCHEDOP_watchdog', 6, 'Set up, poke or destroy a domain watchdog.'),
    c('SCHEDOP_pin_override', 7, 'Temporarily pin the vCPU to a pCPU (hardware domain only).'),
  ],
};

export const SHUTDOWN: XenConstantGroup = {
  id: 'SHUTDOWN',
  doc: 'Shutdown reasons (sched_shutdown.reason).',
  source: 'xen/include/public/sched.h',
  distinct: true,
  constants: [
    c('SHUTDOWN_poweroff', 0, 'Exited normally: clean up and kill.'),
    c('SHUTDOWN_reboot', 1, 'Clean up, kill and restart.'),
    c('SHUTDOWN_suspend', 2, 'Clean up, save suspend info, kill.'),
    c('SHUTDOWN_crash', 3, 'The guest crashed.'),
    c('SHUTDOWN_watchdog', 4, 'Restart because the watchdog expired.'),
    c('SHUTDOWN_soft_reset', 5, 'Soft reset: keep the domain, reset its state.'),
  ],
};

export const VCPUOP: XenConstantGroup = {
  id: 'VCPUOP',
  doc: 'vcpu_op commands, run state values and single-shot timer flags.',
  source: 'xen/include/public/vcpu.h',
  distinct: false,
  constants: [
    c('VCPUOP_initialise', 0, 'Set a vCPU\'s initial register state.'),
    c('VCPUOP_up', 1, 'Bring a vCPU up.'),
    c('VCPUOP_down', 2, 'Take a vCPU down.'),
    c('VCPUOP_is_up', 3, 'Returns 1 if the vCPU is up.'),
    c('VCPUOP_get_runstate_info', 4, 'Read the vCPU\'s run state.'),
    c('VCPUOP_register_runstate_memory_area', 5, 'Have Xen keep the run state in guest memory.'),
    c('VCPUOP_set_periodic_timer', 6, 'Set the periodic VIRQ_TIMER period; arg -> struct vcpu_set_periodic_timer.'),
    c('VCPUOP_stop_periodic_timer', 7, 'Stop the periodic timer (default 10 ms); arg NULL.'),
    c('VCPUOP_set_singleshot_timer', 8, 'Arm a one-shot timer; arg -> struct vcpu_set_singleshot_timer.'),
    c('VCPUOP_stop_singleshot_timer', 9, 'Cancel the one-shot timer; arg NULL.'),
    c('VCPUOP_register_vcpu_info', 10, 'Move vcpu_info out of shared_info; arg -> struct vcpu_register_vcpu_info.'),
    c('VCPUOP_send_nmi', 11, 'Send an NMI to the vCPU.'),
    c('VCPUOP_get_physid', 12, 'Physical id of the vCPU (privileged).'),
    c('VCPUOP_register_vcpu_time_memory_area', 13, 'Have Xen keep a vcpu_time_info copy in guest memory.'),
    c('RUNSTATE_running', 0, 'Running on a physical CPU.'),
    c('RUNSTATE_runnable', 1, 'Runnable but not scheduled.'),
    c('RUNSTATE_blocked', 2, 'Blocked (idle).'),
    c('RUNSTATE_offline', 3, 'Offline or paused.'),
    c('VCPU_SSHOTTMR_future', 1, 'Single-shot timer flag: fail with -ETIME if the timeout has passed.'),
  ],
};

export const VGCF: XenConstantGroup = {
  id: 'VGCF',
  doc: 'vcpu_guest_context.flags: what the context passed to VCPUOP_initialise holds.',
  source: 'xen/include/public/arch-x86/xen.h',
  distinct: true,
  constants: [
    c('VGCF_I387_VALID', 1 << 0, 'fpu_ctxt holds a valid FPU state.'),
    c('VGCF_IN_KERNEL', 1 << 2, 'The vCPU starts in kernel mode (x86_64).'),
    c('VGCF_failsafe_disables_events', 1 << 3, 'Entering the failsafe callback masks events.'),
    c('VGCF_syscall_disables_events', 1 << 4, 'Entering the syscall callback masks events (x86_64).'),
    c('VGCF_online', 1 << 5, 'The vCPU is online (domctl setvcpucontext).'),
  ],
};

export const CALLBACK: XenConstantGroup = {
  id: 'CALLBACK',
  doc: 'callback_op commands, callback types and flags.',
  source: 'xen/include/public/callback.h',
  distinct: false,
  constants: [
    c('CALLBACKOP_register', 0, 'Register a callback; arg -> struct callback_register.'),
    c('CALLBACKOP_unregister', 1, 'Unregister a callback; arg -> struct callback_unregister.'),
    c('CALLBACKTYPE_event', 0, 'Event upcall (the "hypervisor_callback").'),
    c('CALLBACKTYPE_failsafe', 1, 'Failsafe callback: segment reload or iret failed.'),
    c('CALLBACKTYPE_syscall', 2, 'syscall entry (64-bit).'),
    c('CALLBACKTYPE_sysenter_deprecated', 3, 'Old sysenter entry.'),
    c('CALLBACKTYPE_nmi', 4, 'NMI callback.'),
    c('CALLBACKTYPE_sysenter', 5, 'sysenter entry.'),
    c('CALLBACKTYPE_syscall32', 7, '32-bit syscall entry (64-bit Xen).'),
    c('CALLBACKF_mask_events', 1 << 0, 'Mask events (set evtchn_upcall_mask) when the callback is entered.'),
  ],
};

export const XENNMI: XenConstantGroup = {
  id: 'XENNMI',
  doc: 'nmi_op commands.',
  source: 'xen/include/public/nmi.h',
  distinct: true,
  constants: [
    c('XENNMI_register_callback', 0, 'Register the NMI callback.'),
    c('XENNMI_unregister_callback', 1, 'Unregister the NMI callback.'),
  ],
};

export const PHYSDEVOP: XenConstantGroup = {
  id: 'PHYSDEVOP',
  doc: 'physdev_op commands.',
  source: 'xen/include/public/physdev.h',
  distinct: true,
  constants: [
    c('PHYSDEVOP_IRQ_UNMASK_NOTIFY', 4, 'Tell Xen PIRQ-bound event channels were unmasked (obsolete since interface 0x00030202).'),
    c('PHYSDEVOP_irq_status_query', 5, 'Query whether a physical IRQ needs an EOI.'),
    c('PHYSDEVOP_set_iopl', 6, 'Set the virtual IOPL (0-3); arg -> struct physdev_set_iopl.'),
    c('PHYSDEVOP_set_iobitmap', 7, 'Set the I/O-port permission bitmap.'),
    c('PHYSDEVOP_apic_read', 8, 'Read an IO-APIC register (privileged).'),
    c('PHYSDEVOP_apic_write', 9, 'Write an IO-APIC register (privileged).'),
    c('PHYSDEVOP_alloc_irq_vector', 10, 'Allocate an IRQ vector (privileged).'),
    c('PHYSDEVOP_free_irq_vector', 11, 'Free an IRQ vector (privileged).'),
    c('PHYSDEVOP_eoi', 12, 'Signal end-of-interrupt for a physical IRQ.'),
    c('PHYSDEVOP_map_pirq', 13, 'Map a physical IRQ into a domain.'),
    c('PHYSDEVOP_unmap_pirq', 14, 'Unmap a physical IRQ.'),
    c('PHYSDEVOP_manage_pci_add', 15, 'Announce a PCI device.'),
    c('PHYSDEVOP_manage_pci_remove', 16, 'Remove a PCI device.'),
    c('PHYSDEVOP_pirq_eoi_gmfn_v1', 17, 'Register a page of EOI-needed bits (v1).'),
    c('PHYSDEVOP_restore_msi', 19, 'Restore MSI state of a device.'),
    c('PHYSDEVOP_manage_pci_add_ext', 20, 'Announce a PCI device with extra info.'),
    c('PHYSDEVOP_setup_gsi', 21, 'Set up a GSI (privileged).'),
    c('PHYSDEVOP_get_free_pirq', 23, 'Allocate a free PIRQ number.'),
    c('PHYSDEVOP_pci_mmcfg_reserved', 24, 'Report a reserved MMCFG area.'),
    c('PHYSDEVOP_pci_device_add', 25, 'Announce a PCI device (current form).'),
    c('PHYSDEVOP_pci_device_remove', 26, 'Remove a PCI device (current form).'),
    c('PHYSDEVOP_restore_msi_ext', 27, 'Restore MSI state (extended).'),
    c('PHYSDEVOP_pirq_eoi_gmfn_v2', 28, 'Register a page of EOI-needed bits (v2).'),
    c('PHYSDEVOP_dbgp_op', 29, 'USB debug-port reset handshake.'),
    c('PHYSDEVOP_prepare_msix', 30, 'Prepare MSI-X for a device.'),
    c('PHYSDEVOP_release_msix', 31, 'Release MSI-X of a device.'),
  ],
};

export const XENIRQSTAT: XenConstantGroup = {
  id: 'XENIRQSTAT',
  distinct: false,
  doc: 'Flags PHYSDEVOP_irq_status_query returns for a physical IRQ.',
  source: 'xen/include/public/physdev.h',
  constants: [
    c('XENIRQSTAT_needs_eoi', 1 << 0, 'The IRQ needs PHYSDEVOP_eoi after handling.'),
    c('XENIRQSTAT_shared', 1 << 1, 'The IRQ is shared with another domain.'),
  ],
};
