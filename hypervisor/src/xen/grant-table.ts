// Grant tables, version 1 (xen/common/grant_table.c): how a domain lets another one map or
// copy one of its frames. The granting domain writes grant_entry_v1 records into its table
// frames (shared with it by setup_table); a mapping domain names (domain, ref), and Xen
// checks the entry, pins it (GTF_reading/GTF_writing in the shared flags tell the granter
// it is in use), takes references on the frame for as long as the mapping lives, and hands
// out a handle to unmap it with. Copies check the same rights without mapping anything.
// Every refusal is Xen's GNTST_* status, per operation.

import { DOMID_SELF, field, HYPERVISOR_VIRT_START, k, PAGE_ACCESSED, PAGE_DIRTY, PAGE_PRESENT, PAGE_RW, PAGE_USER } from './abi.js';
import { BACKEND_DOMAIN } from './console.js';
import type { Domain } from './domain.js';
import { PGT_WRITABLE } from './frames.js';
import type { MemoryManager } from './mm.js';

export const GNTST = {
  okay: k('GNTST_okay'),
  general_error: k('GNTST_general_error'),
  bad_domain: k('GNTST_bad_domain'),
  bad_gntref: k('GNTST_bad_gntref'),
  bad_handle: k('GNTST_bad_handle'),
  bad_virt_addr: k('GNTST_bad_virt_addr'),
  bad_dev_addr: k('GNTST_bad_dev_addr'),
  permission_denied: k('GNTST_permission_denied'),
  bad_page: k('GNTST_bad_page'),
  bad_copy_arg: k('GNTST_bad_copy_arg'),
  no_space: k('GNTST_no_space'),
} as const;

const GTF_permit_access = k('GTF_permit_access');
const GTF_type_mask = k('GTF_type_mask');
const GTF_readonly = k('GTF_readonly');
const GTF_reading = k('GTF_reading');
const GTF_writing = k('GTF_writing');
export const GNTMAP = {
  device_map: k('GNTMAP_device_map'),
  host_map: k('GNTMAP_host_map'),
  readonly: k('GNTMAP_readonly'),
  application_map: k('GNTMAP_application_map'),
  contains_pte: k('GNTMAP_contains_pte'),
} as const;

const ENTRY_SIZE = 8;
const ENTRIES_PER_FRAME = 4096 / ENTRY_SIZE;
/** Xen's default max_grant_frames. */
export const MAX_GRANT_FRAMES = 32;
/** Handles a domain may hold at once (Xen's default max_maptrack_frames is 1024 frames of 512). */
export const MAX_MAPTRACK = 1024;
const FLAGS = field('grant_entry_v1', 'flags');
const DOMID = field('grant_entry_v1', 'domid');
const FRAME = field('grant_entry_v1', 'frame');
/** Page-table flags of a grant mapping (Xen's GRANT_PTE_FLAGS, less its software bit). */
const GRANT_PTE = PAGE_PRESENT | PAGE_ACCESSED | PAGE_DIRTY;

/** A mapping a domain holds, by handle. */
export interface GrantMapping {
  granter: Domain;
  ref: number;
  frame: number;
  readonly: boolean;
  /** With GNTMAP_host_map: the address it was mapped at and the machine address of its PTE (else -1). */
  hostAddr: number;
  pte: number;
  device: boolean;
}

/** A domain's grant table (as a granter) and its handles (as a mapper). */
export class GrantTable {
  /** Machine frames of the shared table, in order. */
  readonly frames: number[] = [];
  /** How many mappings pin each ref for reading and for writing. */
  readonly readers = new Map<number, number>();
  readonly writers = new Map<number, number>();
  /** Mappings this domain made of other domains' grants, by handle (null: free). */
  readonly maptrack: (GrantMapping | null)[] = [];

  get entries(): number {
    return this.frames.length * ENTRIES_PER_FRAME;
  }
}

/** What a grant operation needs of the machine. */
export interface GrantHost {
  readonly mm: MemoryManager;
  domain(id: number): Domain | undefined;
  /** Grants dom0's built-in backends hold (ring pages), for as long as they are connected. */
  readonly hostMappings: GrantMapping[];
}


/** Reads entry `ref` of a domain's table (the caller checked the range). */
function entry(mm: MemoryManager, g: GrantTable, ref: number): { at: number; flags: number; domid: number; frame: number } {
  const at = g.frames[Math.floor(ref / ENTRIES_PER_FRAME)] * 4096 + (ref % ENTRIES_PER_FRAME) * ENTRY_SIZE;
  const mem = mm.mem;
  return { at, flags: mem.read16(at + FLAGS), domid: mem.read16(at + DOMID), frame: mem.read32(at + FRAME) };
}

function setFlag(mm: MemoryManager, at: number, bit: number, on: boolean): void {
  const v = mm.mem.read16(at + FLAGS);
  mm.mem.write16(at + FLAGS, on ? v | bit : v & ~bit);
}

/** The domain an operation names (DOMID_SELF is the caller), or undefined. */
function named(host: GrantHost, d: Domain, id: number): Domain | undefined {
  return id === DOMID_SELF || id === d.domain ? d : host.domain(id);
}

/** GNTTABOP_setup_table for `d`: grows its table to `nr` frames; their numbers, or a status. */
export function setupTable(host: GrantHost, d: Domain, dom: number, nr: number): number[] | number {
  const target = named(host, d, dom);
  if (!target) return GNTST.bad_domain;
  if (target !== d) return GNTST.permission_denied;
  if (nr > MAX_GRANT_FRAMES) return GNTST.general_error;
  const g = d.grants;
  if (nr > g.frames.length) {
    const got = host.mm.frames.allocate(d.domain, nr - g.frames.length);
    if (!got) return GNTST.general_error;
    for (const mfn of got) host.mm.mem.load(mfn * 4096, new Uint8Array(4096));
    g.frames.push(...got);
  }
  return g.frames.slice(0, nr);
}

/** The machine address of the PTE mapping `va` in the vCPU's page tables, or -1. */
function pteAddress(mm: MemoryManager, d: Domain, va: number): number {
  if (va >= HYPERVISOR_VIRT_START || d.active.baseMfn < 0) return -1;
  const pde = mm.mem.read32(d.active.baseMfn * 4096 + (va >>> 22) * 4);
  if (!(pde & PAGE_PRESENT)) return -1;
  return (pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4;
}

/** GNTTABOP_map_grant_ref for `d`: a handle (>= 0) and the device address, or a status. */
export function mapGrant(host: GrantHost, d: Domain, hostAddr: number, flags: number, ref: number, dom: number): { handle: number; devBusAddr: number } | number {
  const mm = host.mm;
  if ((flags & (GNTMAP.host_map | GNTMAP.device_map)) === 0) return GNTST.bad_gntref;
  const granter = named(host, d, dom);
  if (!granter) return GNTST.bad_domain;
  const g = granter.grants;
  if (ref >= g.entries) return GNTST.bad_gntref;
  const readonly = (flags & GNTMAP.readonly) !== 0;
  const e = entry(mm, g, ref);
  // The entry must grant access to this domain, for writing unless read-only is asked.
  if ((e.flags & GTF_type_mask) !== GTF_permit_access || e.domid !== d.domain) return GNTST.general_error;
  if (!readonly && (e.flags & GTF_readonly)) return GNTST.general_error;
  const frame = e.frame;
  let pte = -1;
  if (flags & GNTMAP.host_map) {
    if (flags & GNTMAP.contains_pte) return GNTST.general_error; // host_addr as a PTE address: not supported here
    pte = pteAddress(mm, d, hostAddr >>> 0);
    if (pte < 0 || mm.grantPtes.has(pte)) return GNTST.general_error;
  }
  const handle = d.grants.maptrack.indexOf(null);
  if (handle < 0 && d.grants.maptrack.length >= MAX_MAPTRACK) return GNTST.no_space;
  // References on the granter's frame, as a mapping of it would take.
  if (!mm.frames.getPage(frame, granter.domain)) return GNTST.general_error;
  if (!readonly && mm.getPageType(frame, PGT_WRITABLE, granter.domain) !== 0) {
    mm.frames.putPage(frame);
    return GNTST.general_error; // a page table or descriptor page cannot be granted writable
  }
  if (pte >= 0) {
    const old = mm.mem.read32(pte);
    mm.mem.write32(pte, ((frame << 12) | GRANT_PTE | (readonly ? 0 : PAGE_RW) | (flags & GNTMAP.application_map ? PAGE_USER : 0)) >>> 0);
    mm.putPageFromL1e(old);
    mm.grantPtes.set(pte, frame);
    d.invalidatePage(hostAddr >>> 0); // Xen flushes every CPU the domain ran on
  }
  const pins = readonly ? g.readers : g.writers;
  pins.set(ref, (pins.get(ref) ?? 0) + 1);
  setFlag(mm, e.at, readonly ? GTF_reading : GTF_writing, true);
  const mapping: GrantMapping = { granter, ref, frame, readonly, hostAddr: pte >= 0 ? hostAddr >>> 0 : -1, pte, device: (flags & GNTMAP.device_map) !== 0 };
  const h = handle >= 0 ? handle : d.grants.maptrack.length;
  d.grants.maptrack[h] = mapping;
  return { handle: h, devBusAddr: mapping.device ? frame * 4096 : 0 };
}

/** GNTTABOP_unmap_grant_ref for `d`: a status. */
export function unmapGrant(host: GrantHost, d: Domain, hostAddr: number, devBusAddr: number, handle: number): number {
  const mm = host.mm;
  const m = handle < d.grants.maptrack.length ? d.grants.maptrack[handle] : null;
  if (!m) return GNTST.bad_handle;
  if (m.device && devBusAddr !== 0 && devBusAddr !== m.frame * 4096) return GNTST.bad_dev_addr;
  if (m.pte >= 0) {
    // The address must still reach the PTE of the mapping, and the PTE still map the frame.
    const pte = pteAddress(mm, d, hostAddr >>> 0);
    if (pte !== m.pte || mm.mem.read32(pte) >>> 12 !== m.frame) return GNTST.general_error;
    mm.mem.write32(pte, 0);
    mm.grantPtes.delete(pte);
    d.invalidatePage(hostAddr >>> 0); // Xen flushes every CPU the domain ran on
  }
  release(mm, m);
  d.grants.maptrack[handle] = null;
  return GNTST.okay;
}

/** Unmaps every grant `d` holds (its destruction): entries cleared, references and pins dropped. */
export function releaseMappings(mm: MemoryManager, d: Domain): void {
  d.grants.maptrack.forEach((m, handle) => {
    if (m === null) return;
    if (m.pte >= 0) {
      mm.mem.write32(m.pte, 0);
      mm.grantPtes.delete(m.pte);
    }
    release(mm, m);
    d.grants.maptrack[handle] = null;
  });
}

/** Drops what a mapping holds: the references, and its pin of the granter's entry. */
function release(mm: MemoryManager, m: GrantMapping): void {
  if (!m.readonly) mm.putPageType(m.frame);
  mm.frames.putPage(m.frame);
  const g = m.granter.grants;
  const pins = m.readonly ? g.readers : g.writers;
  const left = (pins.get(m.ref) ?? 1) - 1;
  if (left > 0) pins.set(m.ref, left);
  else {
    pins.delete(m.ref);
    setFlag(mm, entry(mm, g, m.ref).at, m.readonly ? GTF_reading : GTF_writing, false);
  }
}

/** One side of a copy: a grant of another domain (or own), or a frame of the caller's own. */
export interface CopySide {
  ref: number;
  domid: number;
  offset: number;
  isGrant: boolean;
}

/** The machine frame one side of a copy names, or a status. */
function copyFrame(host: GrantHost, d: Domain, s: CopySide, write: boolean): number {
  const mm = host.mm;
  if (!s.isGrant) {
    // A frame of the caller's own (a PV domain names it by machine frame).
    if (named(host, d, s.domid) !== d) return GNTST.permission_denied;
    return mm.frames.owns(s.ref, d.domain) ? s.ref : GNTST.bad_page;
  }
  const granter = named(host, d, s.domid);
  if (!granter) return GNTST.bad_domain;
  return grantedFrame(mm, granter, s.ref, d.domain, write);
}

/** The frame `granter`'s entry `ref` grants domain `to` (for writing if `write`), or a status. */
export function grantedFrame(mm: MemoryManager, granter: Domain, ref: number, to: number, write: boolean): number {
  if (ref >= granter.grants.entries) return GNTST.bad_gntref;
  const e = entry(mm, granter.grants, ref);
  if ((e.flags & GTF_type_mask) !== GTF_permit_access || e.domid !== to) return GNTST.general_error;
  if (write && (e.flags & GTF_readonly)) return GNTST.general_error;
  return mm.frames.owns(e.frame, granter.domain) ? e.frame : GNTST.bad_page;
}

/**
 * Dom0's backends mapping a grant (a ring page): checked as map_grant_ref checks a
 * mapping by domain 0, holding a reference on the frame and a pin of the entry until
 * hostUnmapGrant.
 */
export function hostMapGrant(host: GrantHost, granter: Domain, ref: number, readonly: boolean): GrantMapping | number {
  const mm = host.mm;
  const frame = grantedFrame(mm, granter, ref, BACKEND_DOMAIN, !readonly);
  if (frame < 0) return frame;
  if (!mm.frames.getPage(frame, granter.domain)) return GNTST.general_error;
  if (!readonly && mm.getPageType(frame, PGT_WRITABLE, granter.domain) !== 0) {
    mm.frames.putPage(frame);
    return GNTST.general_error;
  }
  const g = granter.grants;
  const pins = readonly ? g.readers : g.writers;
  pins.set(ref, (pins.get(ref) ?? 0) + 1);
  setFlag(mm, entry(mm, g, ref).at, readonly ? GTF_reading : GTF_writing, true);
  const m: GrantMapping = { granter, ref, frame, readonly, hostAddr: -1, pte: -1, device: true };
  host.hostMappings.push(m);
  return m;
}

export function hostUnmapGrant(host: GrantHost, m: GrantMapping): void {
  const i = host.hostMappings.indexOf(m);
  if (i < 0) return;
  host.hostMappings.splice(i, 1);
  release(host.mm, m);
}

/** GNTTABOP_copy for `d`: a status. */
export function copyGrant(host: GrantHost, d: Domain, src: CopySide, dst: CopySide, len: number): number {
  const mm = host.mm;
  if (src.offset + len > 4096 || dst.offset + len > 4096) return GNTST.bad_copy_arg;
  const from = copyFrame(host, d, src, false);
  if (from < 0) return from;
  const to = copyFrame(host, d, dst, true);
  if (to < 0) return to;
  // Written through a writable type reference, as Xen does: never into a page table.
  if (!mm.writeData(to, dst.offset, mm.mem.bytes.slice(from * 4096 + src.offset, from * 4096 + src.offset + len))) return GNTST.general_error;
  d.counters.io.bytesMoved += len;
  return GNTST.okay;
}

/** GNTTABOP_query_size: the table's size, or a status. */
export function querySize(host: GrantHost, d: Domain, dom: number): { frames: number; max: number } | number {
  const target = named(host, d, dom);
  if (!target) return GNTST.bad_domain;
  if (target !== d) return GNTST.permission_denied;
  return { frames: d.grants.frames.length, max: MAX_GRANT_FRAMES };
}
