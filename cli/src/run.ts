// `xenolab run`: boots guest kernels as domains on the simulated Xen, streams their
// consoles to stdout and exits with the shutdown reason (or 3 for a crash, 124 when the
// cycle limit ends it first, 125 when it blocks with nothing left to wake it).

import { hypercallByNumber, xenConstantGroup, xenErrnoByValue } from '../../isa/src/index.js';
import { EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP } from '../../hypervisor/src/cpu.js';
import { bootMachine, type DomainSpec } from '../../hypervisor/src/xen/boot.js';
import { xlList } from '../../debugger/src/views.js';
import type { Domain } from '../../hypervisor/src/xen/domain.js';

export interface RunArgs {
  maxCycles: number;
  memoryKiB: number;
  /** vCPUs of a domain given as a kernel (a .cfg says its own). */
  vcpus?: number;
  traceHypercalls: boolean;
  /** Behave as a debug build of Xen: hypercalls overwrite the argument registers they took. */
  debugXen?: boolean;
  /** Print an `xl list` table of the domains at the end (on stdout, after their consoles). */
  list?: boolean;
}

export { guestImage } from '../../debugger/src/launch.js';

const SHUTDOWN_NAMES = new Map((xenConstantGroup('SHUTDOWN')?.constants ?? []).map((c) => [c.value, c.name.replace('SHUTDOWN_', '')]));
const CRASH_EXIT = 3;
const LIMIT_EXIT = 124;
const IDLE_EXIT = 125;

/** A domain to boot: its image and how to build it. */
export type DomainToRun = DomainSpec;

/**
 * Boots the domains (ids 1, 2, ... in order) on one simulated machine, writes their
 * consoles as they run (line by line, each with Xen's `(dN) ` prefix when there are
 * several), and returns the exit code: the shutdown reason (the largest, with several),
 * 3 if one crashed, 124 when the cycle limit came first, 125 when every domain still
 * running is blocked with nothing left to wake it.
 */
export function runDomains(domains: readonly DomainToRun[], args: RunArgs, out: (s: string) => void, err: (s: string) => void): number {
  const machine = bootMachine(domains);
  if ('error' in machine) {
    err(`xenolab: ${machine.error}\n`);
    return 1;
  }
  const { xen, domains: doms } = machine;
  xen.clobberArguments = args.debugXen === true;
  if (args.traceHypercalls) {
    xen.onHypercall = (dom, n, a, rc) => {
      const h = hypercallByNumber(n);
      const args = a.slice(0, h ? h.args.length : 5).map((x) => '0x' + x.toString(16)).join(', ');
      const result = rc < 0 && xenErrnoByValue(-rc) ? `-${xenErrnoByValue(-rc)!.name}` : String(rc);
      // The vCPU too, when the domain has several.
      const who = dom.vcpus.length > 1 ? `dom${dom.domain} vcpu${dom.active.id}` : `dom${dom.domain}`;
      err(`[${who}] ${h ? h.name : `hypercall ${n}`}(${args}) = ${result}\n`);
    };
  }
  const consoles = doms.map((d) => new ConsoleStream(doms.length > 1 ? `(d${d.domain}) ` : '', out));
  doms.forEach((d, i) => (d.onConsole = (text) => consoles[i].write(text)));
  const slice = 100_000;
  let idle = false;
  for (let used = 0; doms.some((d) => d.state.kind === 'running') && used < args.maxCycles; used += slice) {
    if (xen.runAll(Math.min(slice, args.maxCycles - used)).kind === 'idle') {
      idle = true;
      break;
    }
  }
  for (const c of consoles) c.end();
  if (args.list) out(xlList(xen));
  const codes = doms.map((d) => report(d, args, idle, err));
  return codes.includes(CRASH_EXIT) ? CRASH_EXIT : codes.includes(IDLE_EXIT) ? IDLE_EXIT : codes.includes(LIMIT_EXIT) ? LIMIT_EXIT : Math.max(...codes);
}

/** A domain's console output, written as it comes: as is, or in whole lines after a prefix. */
class ConsoleStream {
  private partial = '';

  constructor(private readonly prefix: string, private readonly out: (s: string) => void) {}

  write(text: string): void {
    if (this.prefix === '') {
      this.out(text);
      return;
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.out(`${this.prefix}${l}\n`);
  }

  /** The last line, if it has no newline. */
  end(): void {
    if (this.partial !== '') this.out(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}

/** How a domain ended, on stderr; its exit code. */
function report(d: Domain, args: RunArgs, idle: boolean, err: (s: string) => void): number {
  const s = d.state;
  const name = d.name;
  if (s.kind === 'shutdown') {
    const c = d.counters;
    const calls = c.hypercalls.reduce((a, b) => a + b, 0);
    err(`xenolab: ${name} shut down (${SHUTDOWN_NAMES.get(s.reason) ?? s.reason}) after ${d.vcpus.reduce((n, v) => n + v.cpu.instructions, 0)} instructions, ${c.transitions} hypervisor entries ` +
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
