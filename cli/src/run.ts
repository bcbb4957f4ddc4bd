// `xenolab run`: boots one guest kernel as a domain on the simulated Xen, streams its
// console to stdout and exits with the shutdown reason (or 3 for a crash, 124 when the
// cycle limit ends it first, 125 when it blocks with nothing left to wake it).

import { readFileSync } from 'node:fs';
import { elfToImage, isElfError, readElf32, type Image } from '../../asm/src/index.js';
import { hypercallByNumber, xenConstantGroup, xenErrnoByValue } from '../../isa/src/index.js';
import { EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP } from '../../hypervisor/src/cpu.js';
import type { GuestImage } from '../../hypervisor/src/xen/image.js';
import { Xen } from '../../hypervisor/src/xen/xen.js';

export interface RunArgs {
  maxCycles: number;
  memoryKiB: number;
  traceHypercalls: boolean;
}

/** The loadable parts of an assembled or read image, as the domain builder takes them. */
export function guestImage(image: Image): GuestImage {
  return {
    entry: image.entry,
    segments: image.sections.filter((s) => s.alloc).map((s) => ({ vaddr: s.vaddr, data: s.bytes, memsz: s.size })),
    notes: image.notes.map((n) => ({ type: n.type, desc: n.desc })),
  };
}

/** An ELF file's image, or an error message. */
export function readElfImage(path: string): Image | string {
  const elf = readElf32(new Uint8Array(readFileSync(path)));
  return isElfError(elf) ? `${path}: ${elf.message}` : elfToImage(elf);
}

const SHUTDOWN_NAMES = new Map((xenConstantGroup('SHUTDOWN')?.constants ?? []).map((c) => [c.value, c.name.replace('SHUTDOWN_', '')]));
const CRASH_EXIT = 3;
const LIMIT_EXIT = 124;
const IDLE_EXIT = 125;

/** Boots the image, writes its console as it runs, and returns the exit code. */
export function runImage(image: GuestImage, name: string, args: RunArgs, out: (s: string) => void, err: (s: string) => void): number {
  const xen = new Xen();
  const built = xen.createDomain(image, { name, memoryKiB: args.memoryKiB });
  if ('error' in built) {
    err(`xenolab: cannot build ${name}: ${built.error}\n`);
    return 1;
  }
  const d = built.domain;
  if (args.traceHypercalls) {
    xen.onHypercall = (dom, n, a, rc) => {
      const h = hypercallByNumber(n);
      const args = a.slice(0, h ? h.args.length : 5).map((x) => '0x' + x.toString(16)).join(', ');
      const result = rc < 0 && xenErrnoByValue(-rc) ? `-${xenErrnoByValue(-rc)!.name}` : String(rc);
      err(`[dom${dom.domain}] ${h ? h.name : `hypercall ${n}`}(${args}) = ${result}\n`);
    };
  }
  let shown = 0;
  const flush = () => {
    for (; shown < d.console.length; shown++) out(d.console[shown]);
  };
  const slice = 100_000;
  let idle = false;
  for (let used = 0; d.state.kind === 'running' && used < args.maxCycles; used += slice) {
    const r = xen.run(d, Math.min(slice, args.maxCycles - used));
    flush();
    if (r.kind === 'idle') {
      idle = true;
      break;
    }
  }
  flush();
  const s = d.state;
  if (s.kind === 'shutdown') {
    const c = d.counters;
    const calls = c.hypercalls.reduce((a, b) => a + b, 0);
    err(`xenolab: ${name} shut down (${SHUTDOWN_NAMES.get(s.reason) ?? s.reason}) after ${d.cpu.instructions} instructions, ${c.transitions} hypervisor entries ` +
      `(${calls} hypercalls, ${c.ptUpdates} page-table entries updated: ${(c.ptUpdates / Math.max(1, c.transitions)).toFixed(1)} per entry)\n`);
    return s.reason;
  }
  if (s.kind === 'crashed') {
    const r = d.cpu.regs;
    const reg = (n: string, i: number) => `${n}=${(r[i] >>> 0).toString(16).padStart(8, '0')}`;
    err(`xenolab: ${name} crashed: ${s.why}\n  eip=${s.eip.toString(16).padStart(8, '0')} ${[['eax', EAX], ['ebx', EBX], ['ecx', ECX], ['edx', EDX], ['esi', ESI], ['edi', EDI], ['ebp', EBP], ['esp', ESP]].map(([n, i]) => reg(n as string, i as number)).join(' ')}\n`);
    return CRASH_EXIT;
  }
  if (idle) {
    err(`xenolab: ${name} is blocked with no event pending and no timer set: nothing can wake it\n`);
    return IDLE_EXIT;
  }
  err(`xenolab: ${name} still running after ${args.maxCycles} cycles\n`);
  return LIMIT_EXIT;
}
