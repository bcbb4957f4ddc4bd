// Dom0's control interface over the other domains (what Xen's domctl gives the toolstack,
// and the paper's DOM0_* operations): pause and unpause, scheduling parameters, the memory
// limit, and destruction, which gives every frame of the domain back to the machine once
// nothing else holds it.

import { EBUSY, EINVAL } from './abi.js';
import { BACKEND_DOMAIN } from './console.js';
import type { Domain } from './domain.js';
import { hostUnmapGrant, releaseMappings } from './grant-table.js';
import type { SchedParams } from './sched.js';
import { homePath } from './xenstore/store.js';
import type { Xen } from './xen.js';

/** Stops a domain's vCPU from being scheduled (it keeps its state). */
export function pauseDomain(x: Xen, d: Domain): void {
  d.paused = true;
  for (const v of d.vcpus) v.setRunstate(v.idleRunstate, x.time());
}

export function unpauseDomain(x: Xen, d: Domain): void {
  if (!d.paused) return;
  d.paused = false;
  for (const v of d.vcpus) {
    v.setRunstate(v.idleRunstate, x.time());
    x.policy.wake(v, x.now);
  }
}

export function setSchedParams(d: Domain, p: Partial<SchedParams>): number {
  const next = { ...d.sched, ...p };
  if (!(next.weight > 0) || next.warp < 0 || next.warpLimit < 0 || next.unwarpRequirement < 0) return EINVAL;
  d.sched = next;
  return 0;
}

/** The most pages the domain may hold (increase_reservation stops there); not below what it holds. */
export function setMaxMemory(d: Domain, pages: number): number {
  if (!Number.isInteger(pages) || pages < d.pages) return EINVAL;
  d.maxPages = pages;
  return 0;
}

/**
 * Destroys a domain: its grant mappings of others are released, its event channels
 * closed (their other ends become unbound), its page tables and descriptor pages
 * unpinned and dropped, its xenstore tree removed, and its frames freed. EBUSY while
 * another domain still maps one of its grants (Xen keeps it as a zombie until then).
 */
export function destroyDomain(x: Xen, d: Domain): number {
  for (const other of x.domains.values()) {
    if (other !== d && other.grants.maptrack.some((m) => m !== null && m.granter === d)) return EBUSY;
  }
  const mm = x.mm;
  const f = x.frames;
  x.tearDown(d); // dom0's backends first: they stop touching the domain's rings
  releaseMappings(mm, d);
  // Dom0's backends let go of the domain's rings.
  for (const m of [...x.hostMappings]) if (m.granter === d) hostUnmapGrant(x, m);
  for (const [port, b] of d.events.bound()) {
    if (b.kind === 'interdomain' && b.remoteDom !== BACKEND_DOMAIN) {
      const other = x.domains.get(b.remoteDom);
      if (other) other.events.bind(b.remotePort, { kind: 'unbound', remoteDom: d.domain });
    }
    d.events.bind(port, { kind: 'free' });
  }
  // Page tables: those in the vCPUs' CR3, then the pinned ones; dropping the last type
  // reference of a table drops what its entries hold.
  for (const v of d.vcpus) {
    v.up = false;
    if (v.baseMfn >= 0) mm.putPageAndType(v.baseMfn);
    v.baseMfn = -1;
    for (const m of v.gdtFrames) mm.putPageAndType(m);
    v.gdtFrames = [];
  }
  for (let mfn = 0; mfn < f.count; mfn++) {
    if (f.owner[mfn] === d.domain && f.isPinned(mfn)) {
      f.setPinned(mfn, false);
      mm.putPageAndType(mfn);
    }
  }
  for (let mfn = 0; mfn < f.count; mfn++) if (f.owner[mfn] === d.domain) f.free(mfn);
  x.disconnectDom0(d);
  x.xenstored.release(d);
  x.xenstored.store.rm(0, 0, homePath(d.domain));
  x.xenstored.deliver();
  d.state = d.state.kind === 'running' ? { kind: 'crashed', why: 'destroyed by the toolstack', eip: d.cpu.eip, vcpu: d.active.id } : d.state;
  x.removeDomain(d);
  return 0;
}
