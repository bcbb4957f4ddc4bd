// The domain builder: lays out what a PV guest finds at its entry point (xen.h, "Start-of-
// day memory layout"): the kernel image, then the P2M list, start_info, the xenstore and
// console ring pages, the bootstrap page tables (typed, pinned, mapped read-only) and a
// bootstrap stack, all mapped from the image base 1:1 onto the first pseudo-physical
// frames, up to a 4 MiB boundary with at least 512 KiB to spare. Ring 1 at the entry,
// ESI = start_info, flat kernel selectors, events masked, the hypercall page filled.

import { CR0_PG, ESI, ESP } from '../cpu.js';
import { ascii, field, sizeOf, HYPERVISOR_VIRT_START, k, PAGE_ACCESSED, PAGE_DIRTY, PAGE_PRESENT, PAGE_RW, PAGE_USER } from './abi.js';
import { BACKEND_DOMAIN, ConsoleBackend } from './console.js';
import { Domain } from './domain.js';
import { numericNote, type GuestImage } from './image.js';
import { extOpWords, MMUEXT } from './mm.js';
import type { Xen } from './xen.js';

const PAGE = 4096;
const MB4 = 4 << 20;
const FLAT_KERNEL_CS = k('FLAT_KERNEL_CS');
const FLAT_KERNEL_DS = k('FLAT_KERNEL_DS');
const STUB = k('HYPERCALL_STUB_SIZE');
const MAX_VCPUS = k('XEN_LEGACY_MAX_VCPUS');
const IRET = 23;
const START_INFO_MAGIC = 'xen-3.0-x86_32';
/** 2003-10-20 00:00:00 UTC: a fixed date (the week of SOSP 2003), so that runs repeat exactly. */
export const WALL_CLOCK_EPOCH = 1066608000;

export interface BuildOptions {
  name: string;
  memoryKiB: number;
  cmdline?: string;
  /** vCPUs (xl.cfg `vcpus`, at most XEN_LEGACY_MAX_VCPUS): vCPU 0 boots, the guest brings up the others. */
  vcpus?: number;
}

/** Where the builder put things, in the guest's virtual addresses. */
export interface BootLayout {
  virtBase: number;
  kernelEnd: number;
  p2mList: number;
  startInfo: number;
  xenstore: number;
  console: number;
  pageTables: number;
  ptFrames: number;
  stackTop: number;
  end: number;
}

const roundUp = (v: number, a: number) => Math.ceil(v / a) * a;

/** Builds a domain, or says why it cannot be built. */
export function buildDomain(xen: Xen, id: number, image: GuestImage, opts: BuildOptions): { domain: Domain; layout: BootLayout } | { error: string } {
  const virtBaseNote = numericNote(image, 'XEN_ELFNOTE_VIRT_BASE');
  const virtBase = virtBaseNote ?? 0;
  const entry = numericNote(image, 'XEN_ELFNOTE_ENTRY') ?? image.entry;
  const segs = image.segments.filter((s) => s.memsz > 0);
  if (segs.length === 0) return { error: 'the image has nothing to load' };
  const start = (Math.min(...segs.map((s) => s.vaddr)) & ~(PAGE - 1)) >>> 0;
  const kernelEnd = roundUp(Math.max(...segs.map((s) => s.vaddr + s.memsz)), PAGE);
  if (start < virtBase) return { error: `the image starts at ${hex(start)}, below its virtual base ${hex(virtBase)}` };
  const nrPages = Math.floor(opts.memoryKiB / 4);
  const vcpus = opts.vcpus ?? 1;
  if (!(vcpus >= 1 && vcpus <= MAX_VCPUS)) return { error: `${vcpus} vCPUs: a domain has 1 to ${MAX_VCPUS}` };
  // The layout after the kernel; the page tables must map everything up to the end.
  const p2mList = kernelEnd;
  const startInfo = p2mList + roundUp(nrPages * 4, PAGE);
  const xenstore = startInfo + PAGE;
  const consolePage = xenstore + PAGE;
  const pageTables = consolePage + PAGE;
  let ptFrames = 2;
  let end = 0;
  for (;; ptFrames++) {
    const stackTop = pageTables + ptFrames * PAGE + PAGE;
    end = roundUp(stackTop + 512 * 1024, MB4);
    const slots = (end - ((virtBase & ~(MB4 - 1)) >>> 0)) / MB4;
    if (1 + slots <= ptFrames) break;
  }
  const stackTop = pageTables + ptFrames * PAGE + PAGE;
  if (end > HYPERVISOR_VIRT_START || end <= virtBase) return { error: `the boot area ${hex(virtBase)}-${hex(end)} reaches into the hypervisor hole` };
  const regionPages = (end - virtBase) / PAGE;
  if (regionPages > nrPages) {
    // A kernel linked high without the note that says so is mapped from pseudo-physical 0 up.
    const why = virtBaseNote === undefined && start >= MB4
      ? ` (it has no XEN_ELFNOTE VIRT_BASE, so its addresses from ${hex(start)} count from 0: say XEN_ELFNOTE VIRT_BASE, ${hex(start)})`
      : '';
    return { error: `${opts.memoryKiB} KiB is too little: the kernel and its boot area need ${regionPages * 4} KiB${why}` };
  }

  const frames = xen.frames.allocate(id, nrPages);
  const shared = frames ? xen.frames.allocate(id, 1) : null;
  if (!frames || !shared) return { error: `not enough machine memory for ${opts.memoryKiB} KiB` };
  const mem = xen.mem;
  const domain = new Domain(id, opts.name, mem, frames, vcpus);
  for (const v of domain.vcpus) v.cpu.cycles = xen.now; // their clocks are the machine's
  domain.sharedInfoMfn = shared[0];
  domain.pages = domain.maxPages = nrPages;
  frames.forEach((mfn, pfn) => (xen.frames.m2p[mfn] = pfn));
  const pa = (va: number) => frames[(va - virtBase) >>> 12] * PAGE + (va & (PAGE - 1));
  const write32 = (va: number, v: number) => mem.write32(pa(va), v >>> 0);
  const writeBytes = (va: number, b: Uint8Array) => {
    for (let i = 0; i < b.length; i++) mem.write8(pa(va + i), b[i]);
  };

  for (const s of segs) writeBytes(s.vaddr, s.data);
  for (let pfn = 0; pfn < nrPages; pfn++) write32(p2mList + pfn * 4, frames[pfn]);

  // start_info
  const si = (name: string) => startInfo + field('start_info', name);
  writeBytes(si('magic'), ascii(START_INFO_MAGIC));
  write32(si('nr_pages'), nrPages);
  write32(si('shared_info'), shared[0] * PAGE);
  write32(si('store_mfn'), frames[(xenstore - virtBase) >>> 12]);
  write32(si('console.domU.mfn'), frames[(consolePage - virtBase) >>> 12]);
  write32(si('pt_base'), pageTables);
  write32(si('nr_pt_frames'), ptFrames);
  write32(si('mfn_list'), p2mList);
  const cmdline = ascii((opts.cmdline ?? '').slice(0, 1023));
  writeBytes(si('cmd_line'), cmdline);

  // Bootstrap page tables: L2 at pageTables, then one L1 per 4 MiB slot; tables read-only.
  const l2 = frames[(pageTables - virtBase) >>> 12];
  const firstSlot = virtBase >>> 22;
  for (let va = virtBase; va < end; va += PAGE) {
    const slot = (va >>> 22) - firstSlot;
    const l1 = frames[(pageTables - virtBase) / PAGE + 1 + slot];
    const isTable = va >= pageTables && va < pageTables + ptFrames * PAGE;
    const flags = PAGE_PRESENT | PAGE_ACCESSED | (isTable ? 0 : PAGE_RW | PAGE_DIRTY);
    mem.write32(l1 * PAGE + ((va >>> 12) & 0x3ff) * 4, (frames[(va - virtBase) >>> 12] * PAGE) | flags);
    // Directory entries allow everything (as Xen's L2_PROT): the page-table entries decide.
    mem.write32(l2 * PAGE + (va >>> 22) * 4, (l1 * PAGE) | PAGE_PRESENT | PAGE_RW | PAGE_ACCESSED | PAGE_DIRTY | PAGE_USER);
  }
  const boot = domain.vcpus[0];
  let rc = xen.mm.mmuextOp(extOpWords([{ cmd: MMUEXT.PIN_L2_TABLE, arg1: l2, arg2: 0 }]), boot).rc;
  if (rc === 0) rc = xen.mm.newBaseptr(l2, boot);
  if (rc !== 0) return { error: `the bootstrap page tables did not validate (${rc})` };

  // The hypercall page: `mov eax, N; int 0x82; ret` per stub; iret's pushes EAX first and never returns.
  const hp = numericNote(image, 'XEN_ELFNOTE_HYPERCALL_PAGE');
  if (hp !== undefined) {
    if (hp < virtBase || hp + PAGE > end || hp & (PAGE - 1)) return { error: `hypercall page ${hex(hp)} is not a page of the boot area` };
    for (let n = 0; n < PAGE / STUB; n++) {
      const stub = n === IRET ? [0x50, 0xb8, n, 0, 0, 0, 0xcd, 0x82] : [0xb8, n, 0, 0, 0, 0xcd, 0x82, 0xc3];
      writeBytes(hp + n * STUB, new Uint8Array(stub));
    }
  }

  // The wall clock at system time 0 (WALL_CLOCK_EPOCH).
  const sh = shared[0] * PAGE;
  mem.write32(sh + field('shared_info', 'wc_version'), 2);
  mem.write32(sh + field('shared_info', 'wc_sec'), WALL_CLOCK_EPOCH);
  mem.write32(sh + field('shared_info', 'wc_nsec'), 0);

  // shared_info: events masked on every vCPU until the guest unmasks them.
  for (let v = 0; v < vcpus; v++) mem.write8(shared[0] * PAGE + v * sizeOf('vcpu_info') + field('vcpu_info', 'evtchn_upcall_mask'), 1);

  // The store and the console: ports connected to the built-in backends (in that order,
  // as xl allocates them), their numbers in start_info.
  const storePort = domain.events.allocate();
  domain.events.bind(storePort, { kind: 'interdomain', remoteDom: BACKEND_DOMAIN, remotePort: storePort });
  write32(si('store_evtchn'), storePort);
  domain.ringFrames = [frames[(xenstore - virtBase) >>> 12], frames[(consolePage - virtBase) >>> 12]];
  xen.xenstored.introduce(domain, domain.ringFrames[0], storePort);
  const consolePort = domain.events.allocate();
  domain.events.bind(consolePort, { kind: 'interdomain', remoteDom: BACKEND_DOMAIN, remotePort: consolePort });
  domain.consoleBackend = new ConsoleBackend(domain, domain.ringFrames[1], consolePort);
  write32(si('console.domU.evtchn'), consolePort);

  // Time as of now; the guest extrapolates with rdtsc, and Xen republishes on timer events.
  domain.events.publishTime(0);

  const cpu = domain.cpu;
  cpu.cr0 |= CR0_PG;
  cpu.setSegments(FLAT_KERNEL_CS, FLAT_KERNEL_DS);
  cpu.setFlags(0x202);
  cpu.eip = entry;
  cpu.regs[ESI] = startInfo;
  cpu.regs[ESP] = stackTop;
  boot.kernelSs = FLAT_KERNEL_DS;
  boot.kernelSp = stackTop;
  boot.initialised = boot.up = true;
  for (const v of domain.vcpus) {
    v.runstate = v.idleRunstate; // from now: no time in any state before
    v.runstateEntry = xen.now;
  }
  return {
    domain,
    layout: { virtBase, kernelEnd, p2mList, startInfo, xenstore, console: consolePage, pageTables, ptFrames, stackTop, end },
  };
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);
