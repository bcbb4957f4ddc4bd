// Every constant group, in the order the generated xen.inc lists them.

import * as core from './constants-core.js';
import * as events from './constants-events.js';
import * as grants from './constants-grants.js';
import * as io from './constants-io.js';
import * as mm from './constants-mm.js';
import * as ops from './constants-ops.js';
import { ELFNOTE } from './elfnotes.js';
import { RING_SIZES } from './rings.js';
import type { XenConstant, XenConstantGroup } from './types.js';

export const XEN_CONSTANT_GROUPS: readonly XenConstantGroup[] = [
  core.HYPERCALL_ABI,
  core.SEGMENTS,
  core.GDT,
  core.LAYOUT,
  core.PAGING,
  core.DOMID,
  core.SIF,
  core.PVCLOCK,
  mm.MMU,
  mm.MMUEXT,
  mm.UVMF,
  mm.VMASST,
  mm.XENMEM,
  mm.XENMAPSPACE,
  ops.CONSOLEIO,
  ops.XENVER,
  ops.XENFEAT,
  ops.SCHEDOP,
  ops.SHUTDOWN,
  ops.VCPUOP,
  ops.VGCF,
  ops.CALLBACK,
  ops.XENNMI,
  ops.PHYSDEVOP,
  ops.XENIRQSTAT,
  events.VIRQ,
  events.EVTCHNOP,
  events.EVTCHNSTAT,
  grants.GNTTABOP,
  grants.GTF,
  grants.GNTMAP,
  grants.GNTCOPY,
  grants.GNTST,
  grants.GNTTAB_RESERVED,
  ELFNOTE,
  io.BLKIF,
  io.BLKIF_RSP,
  io.NETIF,
  RING_SIZES,
  io.XENBUS_STATE,
  io.XS,
  io.XS_WATCH,
  io.XENSTORE,
  io.XENCONSOLE,
];

export { XEN_EMULATE_PREFIX, XEN_STRINGS } from './constants-core.js';

const BY_NAME = new Map<string, XenConstant>();
for (const g of XEN_CONSTANT_GROUPS) for (const k of g.constants) BY_NAME.set(k.name, k);

/** Looks a constant up by its Xen name, e.g. `xenConstant('UVMF_INVLPG')?.value === 2`. */
export function xenConstant(name: string): XenConstant | undefined {
  return BY_NAME.get(name);
}

/** The group with this id (e.g. `MMUEXT`). */
export function xenConstantGroup(id: string): XenConstantGroup | undefined {
  return XEN_CONSTANT_GROUPS.find((g) => g.id === id);
}
