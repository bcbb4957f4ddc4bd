// One machine from a list of domain specifications, as xl would create them: ids 1, 2, ...
// in order, each with its disks served by dom0's block backend and its network
// interfaces on dom0's bridges. Shared by the CLI and the debugger.

import { BlkBack, type DiskImage } from './backends/blkback.js';
import { Bridge, NetBack } from './backends/netback.js';
import type { Domain } from './domain.js';
import type { GuestImage } from './image.js';
import { Xen } from './xen.js';

/** A domain to boot: its image and how to build it. */
export interface DomainSpec {
  image: GuestImage;
  name: string;
  memoryKiB: number;
  cmdline?: string;
  weight?: number;
  /** vCPUs (1 when not given). */
  vcpus?: number;
  /** Virtual disks, served by dom0's block backend. */
  disks?: { vdev: string; image: DiskImage }[];
  /** Network interfaces: a MAC address (null: one the toolstack makes up) and a bridge. */
  vifs?: { mac: number[] | null; bridge: string }[];
}

export interface Machine {
  readonly xen: Xen;
  /** The domains, in the order of their specifications. */
  readonly domains: readonly Domain[];
  /** Dom0's backends (reached by the machine only through their handlers). */
  readonly backends: readonly (BlkBack | NetBack)[];
}

/** Boots the domains on one machine with memory for all of them; an error names the domain that could not be built. */
export function bootMachine(specs: readonly DomainSpec[]): Machine | { error: string } {
  const xen = new Xen(Math.max(8192, specs.reduce((a, d) => a + d.memoryKiB / 4 + 16, 64)));
  const domains: Domain[] = [];
  const backends: (BlkBack | NetBack)[] = [];
  const bridges = new Map<string, Bridge>();
  for (const spec of specs) {
    const built = xen.createDomain(spec.image, { name: spec.name, memoryKiB: spec.memoryKiB, cmdline: spec.cmdline, vcpus: spec.vcpus });
    if ('error' in built) return { error: `cannot build ${spec.name}: ${built.error}` };
    const d = built.domain;
    if (spec.weight !== undefined) d.sched.weight = spec.weight;
    for (const disk of spec.disks ?? []) backends.push(new BlkBack(xen, d, disk.vdev, disk.image));
    (spec.vifs ?? []).forEach((v, handle) => {
      let br = bridges.get(v.bridge);
      if (!br) bridges.set(v.bridge, (br = new Bridge(v.bridge)));
      // As xl does, with Xen's OUI 00:16:3e; made up from the domain and the interface, so runs repeat.
      backends.push(new NetBack(xen, d, handle, v.mac ?? [0x00, 0x16, 0x3e, 0x00, d.domain & 0xff, handle & 0xff], br));
    });
    domains.push(d);
  }
  return { xen, domains, backends };
}
