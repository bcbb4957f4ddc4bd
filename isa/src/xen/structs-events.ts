// i386 layouts of the event_channel_op argument structs (xen/include/public/event_channel.h).

import { f } from './define.js';
import type { StructLayout } from './types.js';

export const EVTCHN_ALLOC_UNBOUND: StructLayout = {
  name: 'evtchn_alloc_unbound', size: 8, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_alloc_unbound: allocate a port in dom that remote_dom may bind.',
  fields: [
    f('dom', 0, 2, 'domid_t', 'IN: domain to allocate in (DOMID_SELF if unprivileged).'),
    f('remote_dom', 2, 2, 'domid_t', 'IN: domain allowed to connect.'),
    f('port', 4, 4, 'evtchn_port_t', 'OUT: the new port.'),
  ],
};

export const EVTCHN_BIND_INTERDOMAIN: StructLayout = {
  name: 'evtchn_bind_interdomain', size: 12, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_bind_interdomain: connect to an unbound port of another domain.',
  fields: [
    f('remote_dom', 0, 2, 'domid_t', 'IN: remote domain.'),
    f('remote_port', 4, 4, 'evtchn_port_t', 'IN: its unbound port.'),
    f('local_port', 8, 4, 'evtchn_port_t', 'OUT: the new local port.'),
  ],
};

export const EVTCHN_BIND_VIRQ: StructLayout = {
  name: 'evtchn_bind_virq', size: 12, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_bind_virq: bind a VIRQ on a vCPU to a new port.',
  fields: [
    f('virq', 0, 4, 'uint32_t', 'IN: VIRQ_* number.'),
    f('vcpu', 4, 4, 'uint32_t', 'IN: vCPU to notify.'),
    f('port', 8, 4, 'evtchn_port_t', 'OUT: the new port.'),
  ],
};

export const EVTCHN_BIND_IPI: StructLayout = {
  name: 'evtchn_bind_ipi', size: 8, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_bind_ipi: allocate an intra-domain IPI port.',
  fields: [
    f('vcpu', 0, 4, 'uint32_t', 'IN: vCPU to notify.'),
    f('port', 4, 4, 'evtchn_port_t', 'OUT: the new port.'),
  ],
};

export const EVTCHN_CLOSE: StructLayout = {
  name: 'evtchn_close', size: 4, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_close.',
  fields: [f('port', 0, 4, 'evtchn_port_t', 'IN: port to close.')],
};

export const EVTCHN_SEND: StructLayout = {
  name: 'evtchn_send', size: 4, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_send.',
  fields: [f('port', 0, 4, 'evtchn_port_t', 'IN: local port whose other end is notified.')],
};

export const EVTCHN_STATUS: StructLayout = {
  name: 'evtchn_status', size: 24, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_status: state of a port.',
  fields: [
    f('dom', 0, 2, 'domid_t', 'IN: domain owning the port.'),
    f('port', 4, 4, 'evtchn_port_t', 'IN: port to query.'),
    f('status', 8, 4, 'uint32_t', 'OUT: EVTCHNSTAT_*.'),
    f('vcpu', 12, 4, 'uint32_t', 'OUT: vCPU the port notifies.'),
    f('u.unbound.dom', 16, 2, 'domid_t', 'OUT (unbound): domain allowed to connect.', { union: 'u' }),
    f('u.interdomain.dom', 16, 2, 'domid_t', 'OUT (interdomain): remote domain.', { union: 'u' }),
    f('u.pirq', 16, 4, 'uint32_t', 'OUT (pirq): physical IRQ.', { union: 'u' }),
    f('u.virq', 16, 4, 'uint32_t', 'OUT (virq): VIRQ number.', { union: 'u' }),
    f('u.interdomain.port', 20, 4, 'evtchn_port_t', 'OUT (interdomain): remote port.', { union: 'u' }),
  ],
};

export const EVTCHN_BIND_VCPU: StructLayout = {
  name: 'evtchn_bind_vcpu', size: 8, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_bind_vcpu: choose the vCPU a port notifies.',
  fields: [
    f('port', 0, 4, 'evtchn_port_t', 'IN: port.'),
    f('vcpu', 4, 4, 'uint32_t', 'IN: vCPU.'),
  ],
};

export const EVTCHN_UNMASK: StructLayout = {
  name: 'evtchn_unmask', size: 4, align: 4, header: 'event_channel.h',
  doc: 'EVTCHNOP_unmask: clear the mask bit and re-raise the upcall if the port is pending.',
  fields: [f('port', 0, 4, 'evtchn_port_t', 'IN: port to unmask.')],
};
