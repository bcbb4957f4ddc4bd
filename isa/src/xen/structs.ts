// Every struct layout, dependencies before the structs that embed them.

import * as core from './structs-core.js';
import * as events from './structs-events.js';
import * as grants from './structs-grants.js';
import * as io from './structs-io.js';
import type { StructField, StructLayout } from './types.js';

export const XEN_STRUCTS: readonly StructLayout[] = [
  core.TRAP_INFO,
  core.CPU_USER_REGS,
  core.VCPU_GUEST_CONTEXT,
  core.MMU_UPDATE,
  core.MMUEXT_OP,
  core.MULTICALL_ENTRY,
  core.VCPU_TIME_INFO,
  core.ARCH_VCPU_INFO,
  core.VCPU_INFO,
  core.ARCH_SHARED_INFO,
  core.SHARED_INFO,
  core.START_INFO,
  core.XEN_CALLBACK,
  core.CALLBACK_REGISTER,
  core.CALLBACK_UNREGISTER,
  core.XEN_PLATFORM_PARAMETERS,
  core.XEN_FEATURE_INFO,
  core.SCHED_SHUTDOWN,
  core.SCHED_POLL,
  core.SCHED_REMOTE_SHUTDOWN,
  core.VCPU_RUNSTATE_INFO,
  core.VCPU_SET_PERIODIC_TIMER,
  core.VCPU_SET_SINGLESHOT_TIMER,
  core.VCPU_REGISTER_VCPU_INFO,
  core.PHYSDEV_SET_IOPL,
  core.PHYSDEV_SET_IOBITMAP,
  core.PHYSDEV_EOI,
  core.PHYSDEV_IRQ_STATUS_QUERY,
  core.XEN_MEMORY_RESERVATION,
  events.EVTCHN_ALLOC_UNBOUND,
  events.EVTCHN_BIND_INTERDOMAIN,
  events.EVTCHN_BIND_VIRQ,
  events.EVTCHN_BIND_IPI,
  events.EVTCHN_CLOSE,
  events.EVTCHN_SEND,
  events.EVTCHN_STATUS,
  events.EVTCHN_BIND_VCPU,
  events.EVTCHN_UNMASK,
  grants.GRANT_ENTRY_V1,
  grants.GNTTAB_SETUP_TABLE,
  grants.GNTTAB_MAP_GRANT_REF,
  grants.GNTTAB_UNMAP_GRANT_REF,
  grants.GNTTAB_COPY,
  grants.GNTTAB_QUERY_SIZE,
  io.SRING,
  io.BLKIF_REQUEST_SEGMENT,
  io.BLKIF_REQUEST,
  io.BLKIF_RESPONSE,
  io.NETIF_TX_REQUEST,
  io.NETIF_TX_RESPONSE,
  io.NETIF_RX_REQUEST,
  io.NETIF_RX_RESPONSE,
  io.XENCONS_INTERFACE,
  io.XENSTORE_DOMAIN_INTERFACE,
  io.XSD_SOCKMSG,
];

const BY_NAME = new Map(XEN_STRUCTS.map((s) => [s.name, s]));

/** Looks a layout up by its C tag (`start_info` for `struct start_info`). */
export function xenStruct(name: string): StructLayout | undefined {
  return BY_NAME.get(name);
}

/** Looks a field up by its C designator, e.g. `xenField('start_info', 'console.domU.mfn')`. */
export function xenField(struct: string, field: string): StructField | undefined {
  return BY_NAME.get(struct)?.fields.find((x) => x.name === field);
}
