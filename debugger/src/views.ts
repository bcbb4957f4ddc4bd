// The data behind the debugger's side panels and Debug Console commands, computed from
// the machine on demand: each function answers one custom request (protocol/) or prints
// one command's text. All of them only read: guest memory and page tables are read
// through PhysicalMemory (never through a CPU's MMU, which would set accessed/dirty bits
// and fill TLBs), nothing is written, and a bad domain id, vCPU or ring name is an error
// value, never an exception. A view of one domain looks at that domain alone, so a stop
// with many domains stays fast.

import {
  hypercallByNumber, xenConstantGroup, xenErrnoByValue, xenField,
} from '../../isa/src/index.js';
import type {
  BlkifRequestInfo, BlkifResponseInfo, ByteRingInfo, ByteStreamInfo, DeviceInfo, DomainInfo, DomainsArguments,
  DomainsBody, DomainStateName, EventChannelInfo, EventChannelsBody, FrameInfo, FrameMapArguments, FrameMapBody,
  FrameOwnerCount, FrameTypeName, GrantEntryInfo, GrantTablesBody, HypercallLogBody, HypercallLogEntry,
  NetifRxRequestInfo, NetifRxResponseInfo, NetifTxRequestInfo, NetifTxResponseInfo, PageDirectoryEntryInfo,
  PageFlagName, PageTableEntryInfo, PageTablesArguments, PageTablesBody, RingEntry, RingEntryValue, RingInfo,
  RingsArguments, RingsBody, RunstateName, SharedRingInfo, XenstoreMessageInfo, XenViewError,
} from '../../protocol/src/index.js';
import { isByteRing, isXenViewError } from '../../protocol/src/index.js';
import { DOMID_XEN, field, HYPERVISOR_L2_SLOT, k, PAGE_PRESENT, PAGE_RW, PAGE_USER, sizeOf } from '../../hypervisor/src/xen/abi.js';
import { BlkBack } from '../../hypervisor/src/xen/backends/blkback.js';
import { NetBack } from '../../hypervisor/src/xen/backends/netback.js';
import { COUNTED_HYPERCALLS, type Domain } from '../../hypervisor/src/xen/domain.js';
import { NO_OWNER, PGT_L1, PGT_L2, PGT_NONE, PGT_SEG_DESC, PGT_WRITABLE, type FrameTable } from '../../hypervisor/src/xen/frames.js';
import type { BackRing } from '../../hypervisor/src/xen/ring.js';
import { vectorName } from '../../hypervisor/src/xen/traps.js';
import { RUNSTATE } from '../../hypervisor/src/xen/vcpu.js';
import type { Xen } from '../../hypervisor/src/xen/xen.js';

/** A backend dom0 runs for a domain's split device. */
export type Backend = BlkBack | NetBack;

/**
 * What the views see of a machine: Xen, and the backends the adapter created (Xen keeps
 * no list of them; the adapter does, as `xenolab run` does).
 */
export interface XenMachine {
  readonly xen: Xen;
  readonly backends: readonly Backend[];
}

export type ViewResult<T> = T | XenViewError;
export { isByteRing, isXenViewError };

// ---- Shared helpers -------------------------------------------------------------------------

export const hex = (n: number, width = 8) => '0x' + (n >>> 0).toString(16).padStart(width, '0');
const short = (n: number) => '0x' + (n >>> 0).toString(16);
/** RING_IDX arithmetic: a - b modulo 2^32. */
const sub = (a: number, b: number) => (a - b) >>> 0;
const int16 = (v: number) => (v << 16) >> 16;

/** The domain of that id, or an error that names it. */
function lookup(xen: Xen, id: unknown): Domain | XenViewError {
  const d = typeof id === 'number' && Number.isInteger(id) ? xen.domains.get(id) : undefined;
  return d ?? { error: `no domain ${String(id)}` };
}

function vcpuOf(d: Domain, vcpu: unknown): number | XenViewError {
  const v = vcpu ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= d.vcpus.length) return { error: `dom${d.domain} has no vCPU ${String(vcpu)} (it has ${d.vcpus.length})` };
  return v;
}

const domName = (d: Domain) => `dom${d.domain} (${d.name})`;

/** Value → name of a constant group's members whose names start with `prefix` (the first of equal values). */
function names(group: string, prefix: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const c of xenConstantGroup(group)?.constants ?? []) if (c.name.startsWith(prefix) && !m.has(c.value)) m.set(c.value, c.name);
  return m;
}

/** The names of the bits set in `flags`, from a bit → name map. */
function bitNames(bits: Map<number, string>, flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of bits) if (flags & bit) out.push(name);
  return out;
}

/** The members that are one bit each (flag bits, not multi-bit values). */
function singleBits(m: Map<number, string>): Map<number, string> {
  return new Map([...m].filter(([v]) => v > 0 && (v & (v - 1)) === 0));
}

// ---- xen/domains ---------------------------------------------------------------------------

const RUNSTATE_NAMES = new Map(Object.entries(RUNSTATE).map(([name, v]) => [v as number, name as RunstateName]));
const SHUTDOWN_NAMES = new Map([...names('SHUTDOWN', 'SHUTDOWN_')].map(([v, n]) => [v, n.slice('SHUTDOWN_'.length)]));

/** As `xl list` reads it (see listDomains in cli/src/run.ts). */
function stateOf(d: Domain): DomainStateName {
  if (d.state.kind !== 'running') return d.state.kind;
  if (d.paused) return 'paused';
  const up = d.vcpus.filter((v) => v.up);
  return up.length > 0 && up.every((v) => v.blocked) ? 'blocked' : 'running';
}

function domainInfo(d: Domain): DomainInfo {
  const c = d.counters;
  const byHypercall: Record<string, number> = {};
  let total = 0;
  c.hypercalls.forEach((n, nr) => {
    if (n === 0) return;
    total += n;
    byHypercall[nr === COUNTED_HYPERCALLS ? 'other' : hypercallByNumber(nr)?.name ?? `hypercall ${nr}`] = n;
  });
  const s = d.state;
  return {
    id: d.domain, name: d.name, state: stateOf(d), paused: d.paused,
    ...(s.kind === 'shutdown' ? { shutdownReason: SHUTDOWN_NAMES.get(s.reason) ?? String(s.reason) } : {}),
    ...(s.kind === 'crashed' ? { crashReason: s.why, crashVcpu: s.vcpu, crashEip: s.eip } : {}),
    pages: d.pages, maxPages: d.maxPages, weight: d.sched.weight,
    vcpus: d.vcpus.map((v) => ({
      id: v.id, up: v.up, blocked: v.blocked, polling: v.poll !== null, runstate: RUNSTATE_NAMES.get(v.runstate) ?? 'offline',
      eip: v.cpu.eip >>> 0, cr3: v.cpu.cr3, instructions: v.cpu.instructions, cycles: v.cycles,
    })),
    counters: {
      hypercalls: total, byHypercall, transitions: c.transitions, ptUpdates: c.ptUpdates,
      batchingRatio: c.transitions > 0 ? c.ptUpdates / c.transitions : 0,
      traps: [...c.trapsByVector].sort((a, b) => a[0] - b[0]).map(([vector, count]) => ({ vector, name: vectorName(vector), count })),
      eventsSent: c.eventsSent, eventsDelivered: c.eventsDelivered, io: { ...c.io },
    },
    cycles: c.cycles,
  };
}

/** Every domain (or those `args.domains` names that exist), in id order. */
export function domainList(xen: Xen, args: DomainsArguments = {}): DomainsBody {
  const wanted = args.domains ? new Set(args.domains) : null;
  const domains = [...xen.domains.values()].filter((d) => !wanted || wanted.has(d.domain)).sort((a, b) => a.domain - b.domain);
  return { now: xen.now, domains: domains.map(domainInfo) };
}

/** `xl list` (also `xenolab list`): name, id, MiB, vCPUs, state flags, CPU seconds. */
export function xlList(xen: Xen): string {
  const rows = [...xen.domains.values()].sort((a, b) => a.domain - b.domain).map((d) => {
    const s = d.state.kind;
    const up = d.vcpus.filter((v) => v.up);
    const blocked = up.length > 0 && up.every((v) => v.blocked);
    // xl's state flags: r(unning) b(locked) p(aused) s(hutdown) c(rashed) d(ying)
    const flags = [s === 'running' && !blocked && !d.paused ? 'r' : '-', s === 'running' && blocked ? 'b' : '-', d.paused ? 'p' : '-', s === 'shutdown' ? 's' : '-', s === 'crashed' ? 'c' : '-', '-'].join('');
    return [d.name.padEnd(40), String(d.domain).padStart(5), String(Math.round((d.pages * 4) / 1024)).padStart(6), String(up.length).padStart(6), flags.padStart(11), (d.counters.cycles / 1e9).toFixed(3).padStart(10)].join('');
  });
  const header = ['Name'.padEnd(40), 'ID'.padStart(5), 'Mem'.padStart(6), 'VCPUs'.padStart(6), 'State'.padStart(11), 'Time(s)'.padStart(10)].join('');
  return [header, ...rows].join('\n') + '\n';
}

// ---- Frames and page tables ---------------------------------------------------------------

const TYPE_NAMES = new Map<number, FrameTypeName>([[PGT_NONE, 'none'], [PGT_L1, 'l1'], [PGT_L2, 'l2'], [PGT_SEG_DESC, 'seg_desc'], [PGT_WRITABLE, 'writable']]);
const typeName = (t: number): FrameTypeName => TYPE_NAMES.get(t) ?? `pgt${t}`;

/** What the frame table says of one frame (null beyond machine memory). */
export function frameInfo(f: FrameTable, mfn: number): FrameInfo | null {
  if (!(mfn >= 0 && mfn < f.count)) return null;
  return {
    mfn, pfn: f.m2p[mfn], owner: f.owner[mfn], type: typeName(f.type[mfn]), typeCount: f.typeRefs[mfn],
    refCount: f.refs[mfn], pinned: f.isPinned(mfn), validated: f.isValidated(mfn),
  };
}

/** Entry bits by name; bit 7 is PSE in a directory and PAT in a table. */
const ENTRY_BITS: readonly (readonly [number, PageFlagName])[] = [
  [PAGE_PRESENT, 'present'], [PAGE_RW, 'rw'], [PAGE_USER, 'user'], [k('_PAGE_PWT'), 'pwt'], [k('_PAGE_PCD'), 'pcd'],
  [k('_PAGE_ACCESSED'), 'accessed'], [k('_PAGE_DIRTY'), 'dirty'], [k('_PAGE_PSE'), 'pse'], [k('_PAGE_GLOBAL'), 'global'],
  [0x200, 'avail0'], [0x400, 'avail1'], [0x800, 'avail2'],
];

function flagsOf(raw: number, level: 1 | 2): PageFlagName[] {
  const out: PageFlagName[] = [];
  for (const [bit, name] of ENTRY_BITS) if (raw & bit) out.push(name === 'pse' && level === 1 ? 'pat' : name);
  return out;
}

function entryInfo(xen: Xen, index: number, va: number, raw: number, level: 1 | 2, at: number): PageTableEntryInfo {
  const mfn = raw >>> 12;
  const e: PageTableEntryInfo = { index, va: va >>> 0, raw: raw >>> 0, flags: flagsOf(raw, level), frame: frameInfo(xen.frames, mfn) };
  // A grant mapped at an address is the one entry allowed to point at another domain's frame.
  if (level === 1 && xen.mm.grantPtes.has(at)) e.grantFrom = xen.frames.owner[mfn];
  return e;
}

/** A vCPU's page directory, its present entries, and the present entries of its page tables. */
export function pageTables(xen: Xen, domainId: number, opts: Omit<PageTablesArguments, 'domain'> = {}): ViewResult<PageTablesBody> {
  const d = lookup(xen, domainId);
  if (isXenViewError(d)) return d;
  const vcpu = vcpuOf(d, opts.vcpu);
  if (isXenViewError(vcpu)) return vcpu;
  const v = d.vcpus[vcpu];
  const dir = frameInfo(xen.frames, v.baseMfn);
  if (!dir) return { error: `dom${d.domain} vCPU ${vcpu} has no page directory yet` };
  const slots = opts.slots ? new Set(opts.slots) : null;
  const max = Math.max(0, opts.maxEntries ?? 1024);
  const mem = xen.mem;
  const entries: PageDirectoryEntryInfo[] = [];
  for (let i = 0; i < 1024; i++) {
    const at = v.baseMfn * 4096 + i * 4;
    const pde = mem.read32(at);
    if (!(pde & PAGE_PRESENT)) continue;
    const isXen = i >= HYPERVISOR_L2_SLOT;
    const e: PageDirectoryEntryInfo = { ...entryInfo(xen, i, i << 22, pde, 2, at), xen: isXen };
    const l1 = pde >>> 12;
    if ((!isXen || opts.includeXen) && (!slots || slots.has(i)) && l1 < xen.frames.count) {
      const list: PageTableEntryInfo[] = [];
      let present = 0;
      for (let j = 0; j < 1024; j++) {
        const pteAt = l1 * 4096 + j * 4;
        const pte = mem.read32(pteAt);
        if (!(pte & PAGE_PRESENT)) continue;
        if (++present <= max) list.push(entryInfo(xen, j, (i << 22) | (j << 12), pte, 1, pteAt));
      }
      e.entries = list;
      if (present > max) e.truncated = true;
    }
    entries.push(e);
  }
  return { domain: d.domain, vcpu, cr3: v.cpu.cr3, directory: dir, entries, xenId: DOMID_XEN };
}

/** Owners of frames: the machine map, with a count per owner over every frame. */
export function frameMap(xen: Xen, args: FrameMapArguments = {}): FrameMapBody {
  const f = xen.frames;
  const total = f.count;
  const clamp = (n: number | undefined, dflt: number) => (typeof n === 'number' && Number.isFinite(n) ? Math.min(total, Math.max(0, Math.floor(n))) : dflt);
  const start = clamp(args.start, 0);
  const end = Math.min(total, start + clamp(args.count, total));
  const legend: FrameTypeName[] = [];
  const legendIndex = new Map<number, number>();
  const typeIndex = (t: number) => {
    let i = legendIndex.get(t);
    if (i === undefined) legendIndex.set(t, (i = legend.push(typeName(t)) - 1));
    return i;
  };
  for (const t of TYPE_NAMES.keys()) typeIndex(t); // a stable legend, whatever the window holds
  const owner: number[] = [], type: number[] = [], pinned: number[] = [];
  for (let mfn = start; mfn < end; mfn++) {
    owner.push(f.owner[mfn]);
    type.push(typeIndex(f.type[mfn]));
    pinned.push(f.isPinned(mfn) ? 1 : 0);
  }
  const counts = new Map<number, number>();
  for (let mfn = 0; mfn < total; mfn++) counts.set(f.owner[mfn], (counts.get(f.owner[mfn]) ?? 0) + 1);
  const owners: FrameOwnerCount[] = [...counts].map(([id, frames]) => {
    const d = xen.domains.get(id);
    // shared_info and grant-table frames: Xen allocates them for the domain, outside its reservation.
    const xenHeap = d ? (f.owns(d.sharedInfoMfn, id) ? 1 : 0) + d.grants.frames.filter((m) => f.owns(m, id)).length : 0;
    const name = id === DOMID_XEN ? 'Xen' : id === NO_OWNER ? 'free' : d ? domName(d) : `dom${id}`;
    return { owner: id, name, frames, xenHeap };
  });
  // Xen first, then domains by id, free frames last.
  const rank = (id: number) => (id === DOMID_XEN ? -1 : id === NO_OWNER ? Infinity : id);
  owners.sort((a, b) => rank(a.owner) - rank(b.owner));
  return { total, start, owner, type, pinned, typeLegend: legend, xenId: DOMID_XEN, owners };
}

function describeFrame(fi: FrameInfo | null, mfn: number): string {
  if (!fi) return `mfn ${short(mfn)} (beyond machine memory)`;
  const who = fi.owner === DOMID_XEN ? 'Xen' : fi.owner === NO_OWNER ? 'no owner' : `dom${fi.owner}`;
  const pfn = fi.pfn >= 0 ? `pfn ${short(fi.pfn)}, ` : '';
  return `mfn ${short(mfn)} (${pfn}${who}, ${fi.type}${fi.typeCount ? ` x${fi.typeCount}` : ''}, ${fi.refCount} refs${fi.pinned ? ', pinned' : ''})`;
}

/** A walk of one virtual address through a vCPU's page tables, as text: each level's entry, and the machine address or where it stops. */
export function ptWalk(xen: Xen, domainId: number, va: number, vcpu = 0): ViewResult<string> {
  const d = lookup(xen, domainId);
  if (isXenViewError(d)) return d;
  const vi = vcpuOf(d, vcpu);
  if (isXenViewError(vi)) return vi;
  // Signed or unsigned 32-bit, as expressions give them.
  if (typeof va !== 'number' || !Number.isInteger(va) || va < -0x80000000 || va > 0xffffffff) return { error: `${String(va)} is not a 32-bit virtual address` };
  va >>>= 0;
  const v = d.vcpus[vi];
  if (v.baseMfn < 0) return { error: `dom${d.domain} vCPU ${vi} has no page directory yet` };
  const f = xen.frames, mem = xen.mem;
  const out = [`dom${d.domain} vCPU ${vi}: virtual ${hex(va)}`, `  CR3 ${hex(v.cpu.cr3)}: page directory ${describeFrame(frameInfo(f, v.baseMfn), v.baseMfn)}`];
  const slot = va >>> 22;
  const pdeAt = v.baseMfn * 4096 + slot * 4;
  const pde = mem.read32(pdeAt) >>> 0;
  const hole = slot >= HYPERVISOR_L2_SLOT ? " (the hypervisor hole: Xen's entry)" : '';
  out.push(`  PDE[${slot}] at machine ${hex(pdeAt)} = ${hex(pde)} ${flagsOf(pde, 2).join(' ') || '-'}${hole}`);
  if (!(pde & PAGE_PRESENT)) return [...out, '  not present: the walk stops here (an access would be a #PF)'].join('\n') + '\n';
  const l1 = pde >>> 12;
  out.push(`    -> page table ${describeFrame(frameInfo(f, l1), l1)}`);
  if (l1 >= f.count) return [...out, '  the page table is beyond machine memory: the walk stops here'].join('\n') + '\n';
  const index = (va >>> 12) & 0x3ff;
  const pteAt = l1 * 4096 + index * 4;
  const pte = mem.read32(pteAt) >>> 0;
  out.push(`  PTE[${index}] at machine ${hex(pteAt)} = ${hex(pte)} ${flagsOf(pte, 1).join(' ') || '-'}`);
  if (!(pte & PAGE_PRESENT)) return [...out, '  not present: the walk stops here (an access would be a #PF)'].join('\n') + '\n';
  const mfn = pte >>> 12;
  const grant = xen.mm.grantPtes.has(pteAt) ? ', a grant mapping' : '';
  out.push(`    -> frame ${describeFrame(frameInfo(f, mfn), mfn)}${grant}`);
  // The rights are those both levels give.
  const user = (pde & pte & PAGE_USER) !== 0, rw = (pde & pte & PAGE_RW) !== 0;
  out.push(`  machine address ${hex(mfn * 4096 + (va & 0xfff))}; ring 1 may ${rw ? 'read and write' : 'read'}, ring 3 ${user ? (rw ? 'read and write' : 'read') : 'nothing'}`);
  return out.join('\n') + '\n';
}

// ---- Event channels -------------------------------------------------------------------------

const VIRQ_NAMES = names('VIRQ', 'VIRQ_');
const VI_SIZE = sizeOf('vcpu_info');
const VI_PENDING_SEL = field('vcpu_info', 'evtchn_pending_sel');

/** The protected and private fields of the backends the views read (to be exposed properly by the owner). */
interface BackendInternals {
  /** XenbusBackend.port (protected): the frontend's event channel while connected, else -1. */
  port: number;
  /** BlkBack.ring (private). */
  ring?: BackRing | null;
  /** NetBack.tx, NetBack.rx (private). */
  tx?: BackRing | null;
  rx?: BackRing | null;
}
const internals = (b: Backend) => b as unknown as BackendInternals;
/** BackRing.base (private): the machine address of the shared page. */
const ringBase = (r: BackRing) => (r as unknown as { base: number }).base;

const deviceName = (b: Backend) => (b instanceof BlkBack ? `vbd ${b.devid}` : `vif ${b.devid}`);

/** The backends of domain `d` still attached to it (a destroyed domain's are let go). */
function backendsOf(m: XenMachine, d: Domain): Backend[] {
  return m.backends.filter((b) => b.d === d);
}

/** Who serves dom0's end of each of `d`'s ports that go to dom0. */
function dom0Ends(m: XenMachine, d: Domain): Map<number, string> {
  const ends = new Map<number, string>();
  const store = m.xen.xenstored.portOf(d);
  if (store >= 0) ends.set(store, 'xenstore');
  if (d.consoleBackend) ends.set(d.consoleBackend.port, 'console');
  for (const b of backendsOf(m, d)) {
    const port = internals(b).port;
    if (port >= 0) ends.set(port, `${b instanceof BlkBack ? 'blkif' : 'netif'} ${deviceName(b)}`);
  }
  return ends;
}

/** Every bound port of a domain, and each vCPU's upcall state. */
export function eventChannels(m: XenMachine, domainId: number): ViewResult<EventChannelsBody> {
  const d = lookup(m.xen, domainId);
  if (isXenViewError(d)) return d;
  const ev = d.events;
  const ends = dom0Ends(m, d);
  const ports: EventChannelInfo[] = ev.bound().map(([port, b]) => {
    const e: EventChannelInfo = { port, kind: b.kind as EventChannelInfo['kind'], vcpu: ev.vcpuOf(port), pending: ev.isPending(port), masked: ev.isMasked(port) };
    if (b.kind === 'unbound') e.remoteDomain = b.remoteDom;
    if (b.kind === 'interdomain') {
      e.remoteDomain = b.remoteDom;
      e.remotePort = b.remotePort;
      const end = b.remoteDom === 0 ? ends.get(port) : undefined;
      if (end) e.dom0End = end;
    }
    if (b.kind === 'virq') {
      e.virq = b.virq;
      e.virqName = VIRQ_NAMES.get(b.virq) ?? `VIRQ ${b.virq}`;
    }
    return e;
  });
  const vcpus = d.vcpus.map((v) => ({
    vcpu: v.id, upcallPending: ev.upcallPending(v.id), upcallMask: ev.upcallMasked(v.id),
    pendingSel: d.sharedInfoMfn >= 0 ? m.xen.mem.read32(d.sharedInfoMfn * 4096 + v.id * VI_SIZE + VI_PENDING_SEL) >>> 0 : 0,
  }));
  return { domain: d.domain, ports, vcpus };
}

/** `evtchn`: the event-channel view as a table. */
export function evtchnText(m: XenMachine, domainId: number): ViewResult<string> {
  const body = eventChannels(m, domainId);
  if (isXenViewError(body)) return body;
  const d = m.xen.domains.get(domainId)!;
  const out = [`${domName(d)} event channels:`, '  port  kind         to                                 vcpu  pending  masked'];
  for (const p of body.ports) {
    const to = p.kind === 'interdomain' ? `dom${p.remoteDomain} port ${p.remotePort}${p.dom0End ? ` (${p.dom0End})` : ''}`
      : p.kind === 'unbound' ? `(for dom${p.remoteDomain})` : p.kind === 'virq' ? `${p.virqName} (${p.virq})` : '';
    out.push(`  ${String(p.port).padStart(4)}  ${p.kind.padEnd(11)}  ${to.padEnd(33)}  ${String(p.vcpu).padStart(4)}  ${(p.pending ? 'yes' : '-').padEnd(7)}  ${p.masked ? 'yes' : '-'}`);
  }
  if (body.ports.length === 0) out.push('  (no bound ports)');
  for (const v of body.vcpus) out.push(`  vCPU ${v.vcpu}: upcall pending ${v.upcallPending ? 1 : 0}, mask ${v.upcallMask ? 1 : 0}, pending_sel ${hex(v.pendingSel)}`);
  return out.join('\n') + '\n';
}

// ---- Grant tables ---------------------------------------------------------------------------

const GTF = names('GTF', 'GTF_');
const GTF_type_mask = k('GTF_type_mask');
const GTF_accept_transfer = k('GTF_accept_transfer');
const GTF_TYPES = new Map([[k('GTF_invalid'), 'GTF_invalid'], [k('GTF_permit_access'), 'GTF_permit_access'], [GTF_accept_transfer, 'GTF_accept_transfer'], [k('GTF_transitive'), 'GTF_transitive']]);
/** Bits above the type: the access flags, or for a transfer its own (they share values). */
const ACCESS_BITS = singleBits(new Map([...GTF].filter(([v, n]) => v > GTF_type_mask && !n.startsWith('GTF_transfer_'))));
const TRANSFER_BITS = new Map([[k('GTF_transfer_committed'), 'GTF_transfer_committed'], [k('GTF_transfer_completed'), 'GTF_transfer_completed']]);
const GE_SIZE = sizeOf('grant_entry_v1');
const GE_FLAGS = field('grant_entry_v1', 'flags'), GE_DOMID = field('grant_entry_v1', 'domid'), GE_FRAME = field('grant_entry_v1', 'frame');
const GE_PER_FRAME = 4096 / GE_SIZE;

function grantFlagNames(flags: number): string[] {
  const type = flags & GTF_type_mask;
  return [GTF_TYPES.get(type) ?? `type ${type}`, ...bitNames(type === GTF_accept_transfer ? TRANSFER_BITS : ACCESS_BITS, flags)];
}

/** A domain's active grant entries (who may map what, who has) and the grants of others it maps. */
export function grantTables(xen: Xen, domainId: number): ViewResult<GrantTablesBody> {
  const d = lookup(xen, domainId);
  if (isXenViewError(d)) return d;
  const g = d.grants;
  // Who maps its grants: dom0's backends and other domains' handles.
  const mappedBy = new Map<number, Set<number>>();
  const note = (ref: number, by: number) => (mappedBy.get(ref) ?? mappedBy.set(ref, new Set()).get(ref)!).add(by);
  for (const hm of xen.hostMappings) if (hm.granter === d) note(hm.ref, 0);
  for (const o of xen.domains.values()) for (const mt of o.grants.maptrack) if (mt && mt.granter === d) note(mt.ref, o.domain);
  const mem = xen.mem;
  const entries: GrantEntryInfo[] = [];
  for (let ref = 0; ref < g.entries; ref++) {
    const at = g.frames[Math.floor(ref / GE_PER_FRAME)] * 4096 + (ref % GE_PER_FRAME) * GE_SIZE;
    const flags = mem.read16(at + GE_FLAGS);
    const readers = g.readers.get(ref) ?? 0, writers = g.writers.get(ref) ?? 0;
    if ((flags & GTF_type_mask) === 0 && readers === 0 && writers === 0) continue;
    entries.push({
      ref, flags, flagNames: grantFlagNames(flags), domid: mem.read16(at + GE_DOMID), frame: mem.read32(at + GE_FRAME) >>> 0,
      readers, writers, mappedBy: [...(mappedBy.get(ref) ?? [])].sort((a, b) => a - b),
    });
  }
  const mappings = g.maptrack.flatMap((mt, handle) => mt === null ? [] : [{
    handle, granter: mt.granter.domain, ref: mt.ref, frame: mt.frame, readonly: mt.readonly, device: mt.device,
    ...(mt.hostAddr >= 0 ? { hostAddr: mt.hostAddr, pte: mt.pte } : {}),
  }]);
  return { domain: d.domain, frames: [...g.frames], capacity: g.entries, entries, mappings };
}

/** `gnttab`: the grant-table view as text. */
export function gnttabText(xen: Xen, domainId: number): ViewResult<string> {
  const body = grantTables(xen, domainId);
  if (isXenViewError(body)) return body;
  const d = xen.domains.get(domainId)!;
  const out = [`${domName(d)} grant table: ${body.frames.length} frame(s)${body.frames.length ? ` (mfn ${body.frames.map(short).join(', ')})` : ''}, ${body.capacity} entries`];
  if (body.entries.length) out.push('   ref  domid  frame       pins r/w  mapped by  flags');
  for (const e of body.entries) {
    const by = e.mappedBy.map((x) => `dom${x}`).join(',') || '-';
    out.push(`  ${String(e.ref).padStart(4)}  ${String(e.domid).padStart(5)}  ${hex(e.frame)}  ${`${e.readers}/${e.writers}`.padStart(8)}  ${by.padEnd(9)}  ${e.flagNames.join(' ')}`);
  }
  if (body.entries.length === 0) out.push('  (no active entries)');
  out.push(body.mappings.length ? 'grants it maps:' : 'grants it maps: none');
  for (const mp of body.mappings) {
    const where = mp.hostAddr !== undefined ? ` at ${hex(mp.hostAddr)}` : '';
    out.push(`  handle ${mp.handle}: dom${mp.granter} ref ${mp.ref} (mfn ${short(mp.frame)})${where}${mp.readonly ? ' read-only' : ''}${mp.device ? ' device' : ''}`);
  }
  return out.join('\n') + '\n';
}

// ---- Rings ------------------------------------------------------------------------------------

const sring = (name: string) => field('sring', name);
const REQ_PROD = sring('req_prod'), REQ_EVENT = sring('req_event'), RSP_PROD = sring('rsp_prod'), RSP_EVENT = sring('rsp_event'), RING = sring('ring');

const BLKIF_OPS = names('BLKIF', 'BLKIF_OP_');
const BLKIF_RSPS = names('BLKIF_RSP', 'BLKIF_RSP_');
const NETIF_RSPS = names('NETIF', 'NETIF_RSP_');
const NETTXF = singleBits(names('NETIF', 'NETTXF_'));
const NETRXF = singleBits(names('NETIF', 'NETRXF_'));

const at = (struct: string, name: string) => field(struct, name);
const BR = { op: at('blkif_request', 'operation'), nseg: at('blkif_request', 'nr_segments'), handle: at('blkif_request', 'handle'), id: at('blkif_request', 'id'), sector: at('blkif_request', 'sector_number'), seg: at('blkif_request', 'seg') };
const BSEG = { size: sizeOf('blkif_request_segment'), gref: at('blkif_request_segment', 'gref'), first: at('blkif_request_segment', 'first_sect'), last: at('blkif_request_segment', 'last_sect') };
const MAX_SEGMENTS = k('BLKIF_MAX_SEGMENTS_PER_REQUEST');
const BP = { id: at('blkif_response', 'id'), op: at('blkif_response', 'operation'), status: at('blkif_response', 'status') };
const TXQ = { gref: at('netif_tx_request', 'gref'), offset: at('netif_tx_request', 'offset'), flags: at('netif_tx_request', 'flags'), id: at('netif_tx_request', 'id'), size: at('netif_tx_request', 'size') };
const TXP = { id: at('netif_tx_response', 'id'), status: at('netif_tx_response', 'status') };
const RXQ = { id: at('netif_rx_request', 'id'), gref: at('netif_rx_request', 'gref') };
const RXP = { id: at('netif_rx_response', 'id'), offset: at('netif_rx_response', 'offset'), flags: at('netif_rx_response', 'flags'), status: at('netif_rx_response', 'status') };

type Mem = Xen['mem'];
const u64 = (mem: Mem, a: number) => (BigInt(mem.read32(a + 4) >>> 0) << 32n) | BigInt(mem.read32(a) >>> 0);
const blkOpName = (op: number) => BLKIF_OPS.get(op) ?? `operation ${op}`;

function blkifRequest(mem: Mem, a: number): BlkifRequestInfo {
  const operation = mem.read8(a + BR.op), nrSegments = mem.read8(a + BR.nseg);
  const segments = [];
  for (let i = 0; i < Math.min(nrSegments, MAX_SEGMENTS); i++) {
    const s = a + BR.seg + i * BSEG.size;
    segments.push({ gref: mem.read32(s + BSEG.gref) >>> 0, firstSect: mem.read8(s + BSEG.first), lastSect: mem.read8(s + BSEG.last) });
  }
  return { operation, operationName: blkOpName(operation), nrSegments, handle: mem.read16(a + BR.handle), id: u64(mem, a + BR.id).toString(), sector: Number(u64(mem, a + BR.sector)), segments };
}

function blkifResponse(mem: Mem, a: number): BlkifResponseInfo {
  const operation = mem.read8(a + BP.op), status = int16(mem.read16(a + BP.status));
  return { id: u64(mem, a + BP.id).toString(), operation, operationName: blkOpName(operation), status, statusName: BLKIF_RSPS.get(status) ?? `status ${status}` };
}

function txRequest(mem: Mem, a: number): NetifTxRequestInfo {
  const flags = mem.read16(a + TXQ.flags);
  return { gref: mem.read32(a + TXQ.gref) >>> 0, offset: mem.read16(a + TXQ.offset), flags, flagNames: bitNames(NETTXF, flags), id: mem.read16(a + TXQ.id), size: mem.read16(a + TXQ.size) };
}

function txResponse(mem: Mem, a: number): NetifTxResponseInfo {
  const status = int16(mem.read16(a + TXP.status));
  return { id: mem.read16(a + TXP.id), status, statusName: NETIF_RSPS.get(status) ?? `status ${status}` };
}

function rxRequest(mem: Mem, a: number): NetifRxRequestInfo {
  return { id: mem.read16(a + RXQ.id), gref: mem.read32(a + RXQ.gref) >>> 0 };
}

function rxResponse(mem: Mem, a: number): NetifRxResponseInfo {
  const flags = mem.read16(a + RXP.flags), status = int16(mem.read16(a + RXP.status));
  return {
    id: mem.read16(a + RXP.id), offset: mem.read16(a + RXP.offset), flags, flagNames: bitNames(NETRXF, flags), status,
    statusName: status > 0 ? `${status} bytes` : NETIF_RSPS.get(status) ?? `status ${status}`,
  };
}

const DECODERS: Record<SharedRingInfo['kind'], { request: (mem: Mem, a: number) => RingEntryValue; response: (mem: Mem, a: number) => RingEntryValue }> = {
  blkif: { request: blkifRequest, response: blkifResponse },
  netif_tx: { request: txRequest, response: txResponse },
  netif_rx: { request: rxRequest, response: rxResponse },
};

/**
 * A request/response ring as its slots hold it now. A slot holds request i until the
 * backend answers it, then response i until the frontend reuses the slot for request
 * i + size: so the requests in the ring are [rspProdPvt, req_prod) and the responses
 * still readable are the latest ones before rspProdPvt whose slots no request took.
 */
function sharedRing(xen: Xen, name: string, kind: SharedRingInfo['kind'], d: Domain, ring: BackRing, port: number): SharedRingInfo {
  const mem = xen.mem, base = ringBase(ring), size = ring.size, slotSize = ring.entrySize;
  const reqProd = mem.read32(base + REQ_PROD) >>> 0, rspProd = mem.read32(base + RSP_PROD) >>> 0;
  const { reqCons, rspProdPvt } = ring;
  const slotAt = (i: number) => base + RING + (i & (size - 1)) * slotSize;
  const decode = DECODERS[kind];
  const inRing = Math.min(sub(reqProd, rspProdPvt), size); // a lying producer shows one ring's worth
  const taken = sub(reqCons, rspProdPvt);
  const requests: RingEntry[] = [];
  for (let n = 0; n < inRing; n++) {
    const index = (rspProdPvt + n) >>> 0;
    requests.push({ index, slot: index & (size - 1), state: n < taken ? 'taken' : 'pending', value: decode.request(mem, slotAt(index)) });
  }
  // Indices start at 0 after SHARED_RING_INIT: before rspProdPvt reaches the ring size, fewer responses exist.
  const answered = Math.min(size - inRing, rspProdPvt);
  const responses: RingEntry[] = [];
  for (let n = answered; n > 0; n--) {
    const index = (rspProdPvt - n) >>> 0;
    responses.push({ index, slot: index & (size - 1), state: 'answered', value: decode.response(mem, slotAt(index)) });
  }
  return {
    name, kind, domain: d.domain, mfn: base >>> 12, port, size, slotSize,
    reqProd, reqEvent: mem.read32(base + REQ_EVENT) >>> 0, rspProd, rspEvent: mem.read32(base + RSP_EVENT) >>> 0,
    reqCons, rspProdPvt, requests, responses,
  };
}

const XS_NAMES = names('XS', 'XS_');
const XS_HEADER = sizeOf('xsd_sockmsg');
const latin1 = (bytes: number[]) => bytes.map((b) => String.fromCharCode(b)).join('');

/** One direction of a byte ring: the bytes produced and not consumed (at most a ring's worth). */
function stream(mem: Mem, base: number, struct: string, name: ByteStreamInfo['name'], cons: string, prod: string): ByteStreamInfo {
  const buf = xenField(struct, name)!;
  const c = mem.read32(base + field(struct, cons)) >>> 0, p = mem.read32(base + field(struct, prod)) >>> 0;
  const bytes: number[] = [];
  for (let i = 0, n = Math.min(sub(p, c), buf.size); i < n; i++) bytes.push(mem.read8(base + buf.offset + ((c + i) & (buf.size - 1))));
  return { name, cons: c, prod: p, size: buf.size, unread: latin1(bytes) };
}

/** The whole xenstore messages at the start of unread bytes (a partial one ends the list). */
function xsMessages(text: string): XenstoreMessageInfo[] {
  const out: XenstoreMessageInfo[] = [];
  const word = (i: number) => (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 8) | (text.charCodeAt(i + 2) << 16) | (text.charCodeAt(i + 3) << 24)) >>> 0;
  for (let a = 0; text.length - a >= XS_HEADER; ) {
    const type = word(a), len = word(a + 12);
    if (text.length - a - XS_HEADER < len) break;
    out.push({ type, typeName: XS_NAMES.get(type) ?? `type ${type}`, reqId: word(a + 4), txId: word(a + 8), payload: text.slice(a + XS_HEADER, a + XS_HEADER + len) });
    a += XS_HEADER + len;
  }
  return out;
}

/** The console and xenstore rings of a domain (the builder's ringFrames: xenstore, then console). */
function byteRings(xen: Xen, d: Domain, wanted: (name: string) => boolean): ByteRingInfo[] {
  const out: ByteRingInfo[] = [];
  const [storeMfn, consoleMfn] = d.ringFrames;
  const mem = xen.mem;
  const con = `dom${d.domain} console`, store = `dom${d.domain} xenstore`;
  if (consoleMfn !== undefined && wanted(con)) {
    const b = consoleMfn * 4096, s = 'xencons_interface';
    out.push({ name: con, kind: 'console', domain: d.domain, mfn: consoleMfn, port: d.consoleBackend?.port ?? -1,
      streams: [stream(mem, b, s, 'in', 'in_cons', 'in_prod'), stream(mem, b, s, 'out', 'out_cons', 'out_prod')] });
  }
  if (storeMfn !== undefined && wanted(store)) {
    const b = storeMfn * 4096, s = 'xenstore_domain_interface';
    const streams = [stream(mem, b, s, 'req', 'req_cons', 'req_prod'), stream(mem, b, s, 'rsp', 'rsp_cons', 'rsp_prod')];
    for (const st of streams) st.messages = xsMessages(st.unread);
    out.push({ name: store, kind: 'xenstore', domain: d.domain, mfn: storeMfn, port: xen.xenstored.portOf(d), streams });
  }
  return out;
}

/** The shared rings the machine knows (dom0's backends', the consoles', the xenstore rings) and the split devices. */
export function rings(m: XenMachine, args: RingsArguments = {}): ViewResult<RingsBody> {
  const xen = m.xen;
  let doms: Domain[];
  if (args.domain !== undefined) {
    const d = lookup(xen, args.domain);
    if (isXenViewError(d)) return d;
    doms = [d];
  } else doms = [...xen.domains.values()].sort((a, b) => a.domain - b.domain);
  const wanted = (name: string) => args.name === undefined || args.name === name;
  const out: RingInfo[] = [];
  const devices: DeviceInfo[] = [];
  for (const d of doms) {
    for (const b of backendsOf(m, d)) {
      const { port, ring, tx, rx } = internals(b);
      const prefix = `dom${d.domain}`;
      const connected = b instanceof BlkBack ? !!ring : !!tx;
      devices.push({ name: `${prefix} ${deviceName(b)}`, kind: b instanceof BlkBack ? 'vbd' : 'vif', domain: d.domain, devid: b.devid, connected, frontendPath: b.frontendPath, backendPath: b.backendPath });
      const shared: [string, SharedRingInfo['kind'], BackRing | null | undefined][] =
        b instanceof BlkBack ? [[`${prefix} blkif ${deviceName(b)}`, 'blkif', ring]] : [[`${prefix} netif_tx ${deviceName(b)}`, 'netif_tx', tx], [`${prefix} netif_rx ${deviceName(b)}`, 'netif_rx', rx]];
      for (const [name, kind, r] of shared) if (r && wanted(name)) out.push(sharedRing(xen, name, kind, d, r, port));
    }
    out.push(...byteRings(xen, d, wanted));
  }
  if (args.name !== undefined && out.length === 0) return { error: `no ring named '${args.name}'` };
  return { rings: out, devices };
}

/** One decoded entry on a line (the shapes are told apart by their fields). */
function valueText(v: RingEntryValue): string {
  const flags = (f: string[]) => (f.length ? ` flags ${f.join('|')}` : '');
  if ('size' in v) return `id ${v.id} gref ${v.gref} offset ${v.offset} size ${v.size}${flags(v.flagNames)}`;
  if ('segments' in v) {
    const segs = v.segments.map((s) => `gref ${s.gref} sectors ${s.firstSect}-${s.lastSect}`).join(', ');
    return `${v.operationName} id ${v.id} sector ${v.sector} handle ${v.handle}, ${v.nrSegments} segment(s): ${segs}`;
  }
  if ('operationName' in v) return `${v.operationName} id ${v.id}: ${v.statusName}`;
  if ('offset' in v) return `id ${v.id} offset ${v.offset}${flags(v.flagNames)}: ${v.statusName}`;
  if ('statusName' in v) return `id ${v.id}: ${v.statusName}`;
  return `id ${v.id} gref ${v.gref}`;
}

const entryText = (e: RingEntry) => `    #${e.index} slot ${e.slot} ${e.state}: ${valueText(e.value)}`;

/** `ring NAME`: one ring's indices and entries, as text. */
export function ringText(m: XenMachine, name: string): ViewResult<string> {
  // The name says the domain ("dom3 ..."): only that domain's rings are looked at.
  const id = /^dom(\d+) /.exec(name);
  const body = rings(m, id ? { domain: Number(id[1]), name } : { name });
  if (isXenViewError(body)) {
    const all = rings(m, id && m.xen.domains.has(Number(id[1])) ? { domain: Number(id[1]) } : {});
    const known = isXenViewError(all) ? [] : all.rings.map((r) => r.name);
    return { error: `no ring named '${name}'${known.length ? `; rings: ${known.join(', ')}` : ''}` };
  }
  const r = body.rings[0];
  if (isByteRing(r)) {
    const out = [`${r.name}: mfn ${short(r.mfn)}, port ${r.port}`];
    for (const s of r.streams) {
      out.push(`  ${s.name.padEnd(3)}: cons ${s.cons} prod ${s.prod} of ${s.size} bytes, unread ${JSON.stringify(s.unread)}`);
      for (const msg of s.messages ?? []) out.push(`    ${msg.typeName} req ${msg.reqId} tx ${msg.txId}: ${JSON.stringify(msg.payload)}`);
    }
    return out.join('\n') + '\n';
  }
  const out = [
    `${r.name}: mfn ${short(r.mfn)}, port ${r.port}, ${r.size} slots of ${r.slotSize} bytes`,
    `  shared: req_prod ${r.reqProd} req_event ${r.reqEvent} rsp_prod ${r.rspProd} rsp_event ${r.rspEvent}; backend: req_cons ${r.reqCons} rsp_prod_pvt ${r.rspProdPvt}`,
    r.requests.length ? '  requests:' : '  requests: none in the ring',
    ...r.requests.map(entryText),
    r.responses.length ? '  responses:' : '  responses: none',
    ...r.responses.map(entryText),
  ];
  return out.join('\n') + '\n';
}

// ---- Hypercall log ----------------------------------------------------------------------------

const ARG_WORDS = 5;

/** The errno a hypercall's result names, if it is one. */
export function errnoName(result: number): string | undefined {
  // A result in [-4095, -1] is an errno, as Linux reads one; larger negatives are values (addresses).
  return result < 0 && result >= -4095 ? xenErrnoByValue(-result)?.name : undefined;
}

/**
 * The last `capacity` hypercalls of every domain, kept in typed arrays (recording one is a
 * few stores, cheap enough for every hypercall of a long run); entries are objects only
 * when asked for. Sequence numbers start at 1 and never repeat.
 */
export class HypercallLog {
  private readonly time: Float64Array;
  private readonly domain: Int32Array;
  private readonly vcpu: Int32Array;
  private readonly nr: Int32Array;
  private readonly args: Uint32Array;
  private readonly result: Int32Array;
  /** The sequence number the next record gets. */
  private next = 1;
  readonly capacity: number;

  constructor(capacity = 4096) {
    const n = (this.capacity = Math.max(1, Math.floor(capacity)));
    this.time = new Float64Array(n);
    this.domain = new Int32Array(n);
    this.vcpu = new Int32Array(n);
    this.nr = new Int32Array(n);
    this.args = new Uint32Array(n * ARG_WORDS);
    this.result = new Int32Array(n);
  }

  get nextSeq(): number {
    return this.next;
  }

  /** The oldest sequence number still kept. */
  get oldestSeq(): number {
    return Math.max(1, this.next - this.capacity);
  }

  record(time: number, domain: number, vcpu: number, nr: number, args: ArrayLike<number>, result: number): void {
    const i = this.next % this.capacity;
    this.time[i] = time;
    this.domain[i] = domain;
    this.vcpu[i] = vcpu;
    this.nr[i] = nr;
    for (let a = 0; a < ARG_WORDS; a++) this.args[i * ARG_WORDS + a] = a < args.length ? args[a] : 0;
    this.result[i] = result;
    this.next++;
  }

  /** A function to install as `xen.onHypercall` (it records into this log, with the time and vCPU). */
  tracer(xen: Xen): (d: Domain, n: number, args: number[], result: number) => void {
    return (d, n, args, result) => this.record(xen.time(), d.domain, d.active.id, n, args, result);
  }

  /** Entries from sequence number `seq` on, oldest first (at most `max`, of `domain` only if given). */
  since(seq = 0, opts: { max?: number; domain?: number } = {}): HypercallLogBody {
    const from = Math.max(Math.floor(seq) || 0, 1);
    const first = Math.max(from, this.oldestSeq);
    const max = opts.max ?? Infinity;
    const entries: HypercallLogEntry[] = [];
    let s = first;
    for (; s < this.next && entries.length < max; s++) {
      const i = s % this.capacity;
      if (opts.domain !== undefined && this.domain[i] !== opts.domain) continue;
      entries.push(this.entry(s, i));
    }
    return { entries, nextSeq: s, dropped: first - from };
  }

  private entry(seq: number, i: number): HypercallLogEntry {
    const nr = this.nr[i] >>> 0;
    const h = hypercallByNumber(nr);
    const count = h ? h.args.length : ARG_WORDS;
    const args: string[] = [];
    for (let a = 0; a < count; a++) args.push(short(this.args[i * ARG_WORDS + a]));
    const result = this.result[i];
    const errno = errnoName(result);
    return {
      seq, time: this.time[i], domain: this.domain[i], vcpu: this.vcpu[i], nr, name: h ? h.name : `hypercall ${nr}`, args, result,
      ...(errno ? { errno } : {}),
    };
  }
}
