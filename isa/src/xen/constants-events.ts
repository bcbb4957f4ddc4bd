// Event channels: virtual IRQ numbers, event_channel_op commands and port states.

import { c } from './define.js';
import type { XenConstantGroup } from './types.js';

export const VIRQ: XenConstantGroup = {
  id: 'VIRQ',
  doc: 'Virtual IRQs a guest binds to ports with EVTCHNOP_bind_virq (per-vCPU unless marked global).',
  source: 'xen/include/public/xen.h',
  distinct: true,
  constants: [
    c('VIRQ_TIMER', 0, 'Per-vCPU: timebase update and/or requested timeout.'),
    c('VIRQ_DEBUG', 1, 'Per-vCPU: request to dump debug info.'),
    c('VIRQ_CONSOLE', 2, 'Global (dom0): bytes received on the emergency console.'),
    c('VIRQ_DOM_EXC', 3, 'Global (dom0): exceptional event for some domain.'),
    c('VIRQ_TBUF', 4, 'Global (dom0): trace buffer has records.'),
    c('VIRQ_DEBUGGER', 6, 'Global (dom0): a domain paused for debugging.'),
    c('VIRQ_XENOPROF', 7, 'Per-vCPU: new oprofile sample.'),
    c('VIRQ_CON_RING', 8, 'Global (dom0): bytes received on the console ring.'),
    c('VIRQ_PCPU_STATE', 9, 'Global (dom0): physical CPU state changed.'),
    c('VIRQ_MEM_EVENT', 10, 'Global (dom0): a memory event occurred.'),
    c('VIRQ_ARGO', 11, 'Global: Argo message notification.'),
    c('VIRQ_ENOMEM', 12, 'Global (dom0): Xen is low on heap memory.'),
    c('VIRQ_XENPMU', 13, 'Per-vCPU: PMU interrupt.'),
    c('VIRQ_ARCH_0', 16, 'Architecture-specific VIRQ 0.'),
    c('VIRQ_ARCH_1', 17, 'Architecture-specific VIRQ 1.'),
    c('VIRQ_ARCH_2', 18, 'Architecture-specific VIRQ 2.'),
    c('VIRQ_ARCH_3', 19, 'Architecture-specific VIRQ 3.'),
    c('VIRQ_ARCH_4', 20, 'Architecture-specific VIRQ 4.'),
    c('VIRQ_ARCH_5', 21, 'Architecture-specific VIRQ 5.'),
    c('VIRQ_ARCH_6', 22, 'Architecture-specific VIRQ 6.'),
    c('VIRQ_ARCH_7', 23, 'Architecture-specific VIRQ 7.'),
    c('NR_VIRQS', 24, 'Number of VIRQ numbers.'),
  ],
};

export const EVTCHNOP: XenConstantGroup = {
  id: 'EVTCHNOP',
  doc: 'event_channel_op commands; arg points to the struct named after the command.',
  source: 'xen/include/public/event_channel.h',
  distinct: true,
  constants: [
    c('EVTCHNOP_bind_interdomain', 0, 'Connect to an unbound port of a remote domain (struct evtchn_bind_interdomain).'),
    c('EVTCHNOP_bind_virq', 1, 'Bind a VIRQ to a new port (struct evtchn_bind_virq).'),
    c('EVTCHNOP_bind_pirq', 2, 'Bind a physical IRQ (privileged).'),
    c('EVTCHNOP_close', 3, 'Close a port (struct evtchn_close).'),
    c('EVTCHNOP_send', 4, 'Notify the other end of a port (struct evtchn_send).'),
    c('EVTCHNOP_status', 5, 'Query a port\'s state (struct evtchn_status).'),
    c('EVTCHNOP_alloc_unbound', 6, 'Allocate a port that a remote domain may bind (struct evtchn_alloc_unbound).'),
    c('EVTCHNOP_bind_ipi', 7, 'Bind an intra-domain IPI port (struct evtchn_bind_ipi).'),
    c('EVTCHNOP_bind_vcpu', 8, 'Change the vCPU a port notifies (struct evtchn_bind_vcpu).'),
    c('EVTCHNOP_unmask', 9, 'Unmask a port and re-raise it if pending (struct evtchn_unmask).'),
    c('EVTCHNOP_reset', 10, 'Close all ports of a domain.'),
    c('EVTCHNOP_init_control', 11, 'FIFO ABI: register a control block.'),
    c('EVTCHNOP_expand_array', 12, 'FIFO ABI: add an event-array page.'),
    c('EVTCHNOP_set_priority', 13, 'FIFO ABI: set a port\'s priority.'),
  ],
};

export const EVTCHNSTAT: XenConstantGroup = {
  id: 'EVTCHNSTAT',
  doc: 'Port states reported in evtchn_status.status.',
  source: 'xen/include/public/event_channel.h',
  distinct: true,
  constants: [
    c('EVTCHNSTAT_closed', 0, 'Not in use.'),
    c('EVTCHNSTAT_unbound', 1, 'Waiting for an inter-domain connection.'),
    c('EVTCHNSTAT_interdomain', 2, 'Connected to a remote domain.'),
    c('EVTCHNSTAT_pirq', 3, 'Bound to a physical IRQ.'),
    c('EVTCHNSTAT_virq', 4, 'Bound to a virtual IRQ.'),
    c('EVTCHNSTAT_ipi', 5, 'Bound to a virtual IPI.'),
  ],
};
