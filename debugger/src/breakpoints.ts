// The breakpoints a client set, and what stops: source lines (through the line table,
// macro invocation lines included), functions (labels), instructions, data (watched
// machine addresses) and exceptions (filters over what the machine reports). Conditions,
// hit counts and log messages are decided here; the CPUs only hold addresses.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { decode, hypercallByNumber, MNEMONICS, xenErrnoByValue } from '../../isa/src/index.js';
import type { Watch } from '../../hypervisor/src/memory.js';
import type { Domain } from '../../hypervisor/src/xen/domain.js';
import type { Vcpu } from '../../hypervisor/src/xen/vcpu.js';
import type { DebugEvent } from '../../hypervisor/src/xen/xen.js';
import { parseExpression, evaluateExpression, type Expr } from './expr.js';
import { readGuest } from './guestmem.js';
import type { StopPolicy } from './machine.js';
import type { Program } from './program.js';
import { exprContext } from './variables.js';
import { hex } from './views.js';

export interface Guest {
  domain: Domain;
  program: Program;
}

interface Breakpoint {
  id: number;
  condition: Expr | null;
  hitCondition: { op: '>=' | '==' | '%'; n: number } | null;
  logMessage: string | null;
  hits: number;
  /** Where it is, per domain. */
  addresses: Map<Domain, number[]>;
}

/** The exception filters, as the client shows them. */
export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: 'privileged', label: 'Privileged instruction', description: 'A privileged instruction in the guest kernel (#GP(0) in ring 1), whether Xen emulates it or not', default: true },
  { filter: 'pagefault', label: 'Page fault', description: 'A page fault (#PF) in a guest' },
  { filter: 'gp', label: 'General protection', description: 'Any general-protection fault (#GP) in a guest' },
  { filter: 'trap', label: 'Any guest trap', description: 'Any exception or software interrupt a guest raises (int 0x82 hypercalls excepted)' },
  { filter: 'hypercall-error', label: 'Hypercall error', description: 'A hypercall returning an error (negative errno in EAX)' },
  { filter: 'crash', label: 'Domain crash', description: 'A domain crashed', default: true },
  { filter: 'shutdown', label: 'Domain shutdown', description: 'A domain shut down' },
];

const VECTOR_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '', '#TS', '#NP', '#SS', '#GP', '#PF', '', '#MF', '#AC', '#MC', '#XM'];

/** What an exception stop says: its filter, a one-line description and details. */
export interface ExceptionStop {
  filter: string;
  description: string;
  details: string;
  /** For a fault: the point before the faulting instruction (the debugger goes back there). */
  before?: { vcpu: Vcpu; instructions: number; cycles: number };
}

export class Breakpoints {
  private nextId = 1;
  private readonly bySource = new Map<string, Breakpoint[]>();
  private functions: Breakpoint[] = [];
  private instructions: Breakpoint[] = [];
  private filters = new Set<string>(EXCEPTION_FILTERS.filter((f) => f.default).map((f) => f.filter));
  /** A stop the debugger itself wants (stepping over a call, stepping out): this vCPU at this address with ESP at least this. */
  temp: { vcpu: Vcpu; address: number; esp: number } | null = null;
  /** Log point output. */
  onLog: (text: string) => void = () => {};
  /** The exception stop last decided (the stop event reads it). */
  lastException: ExceptionStop | null = null;
  /**
   * A fault the debugger stopped at (before its instruction): going on raises it again,
   * and that once it is let through, as a debugger passes an exception on to the program.
   */
  passFault: { vcpu: Vcpu; instructions: number; cycles: number } | null = null;
  watches: Watch[] = [];

  constructor(private readonly guests: readonly Guest[], private readonly sameFile: (a: string, b: string) => boolean) {}

  setSource(path: string, requested: readonly DebugProtocol.SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    const out: DebugProtocol.Breakpoint[] = [];
    const list: Breakpoint[] = [];
    for (const r of requested) {
      const addresses = new Map<Domain, number[]>();
      let file = '';
      for (const g of this.guests) {
        const f = g.program.files.find((x) => this.sameFile(x, path)) ?? g.program.callSiteFiles.find((x) => this.sameFile(x, path));
        if (f === undefined) continue;
        file = f;
        const at = g.program.addressesOf(f, r.line);
        if (at.length > 0) addresses.set(g.domain, at);
      }
      const made = this.make(addresses, r);
      if ('error' in made) {
        out.push({ verified: false, line: r.line, message: made.error });
        continue;
      }
      if (addresses.size === 0) {
        const next = file === '' ? null : this.guests.map((g) => g.program.nextCodeLine(file, r.line, 50)).find((l) => l !== null) ?? null;
        out.push({
          verified: false, line: r.line,
          message: file === '' ? 'no domain runs code from this file' : `no instruction at line ${r.line}${next !== null ? ` (the next is at line ${next})` : ''}`,
        });
        continue;
      }
      list.push(made);
      out.push({ id: made.id, verified: true, line: r.line, instructionReference: hex([...addresses.values()][0][0]) });
    }
    this.bySource.set(path, list);
    this.install();
    return out;
  }

  setFunctions(requested: readonly DebugProtocol.FunctionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.functions = [];
    const out = requested.map((r): DebugProtocol.Breakpoint => {
      const addresses = new Map<Domain, number[]>();
      for (const g of this.guests) {
        const a = g.program.symbol(r.name);
        if (a !== undefined && g.program.isCode(a)) addresses.set(g.domain, [a]);
      }
      if (addresses.size === 0) return { verified: false, message: `no label '${r.name}' in the code of any domain` };
      const made = this.make(addresses, r);
      if ('error' in made) return { verified: false, message: made.error };
      this.functions.push(made);
      return { id: made.id, verified: true, instructionReference: hex([...addresses.values()][0][0]) };
    });
    this.install();
    return out;
  }

  setInstructions(requested: readonly DebugProtocol.InstructionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.instructions = [];
    const out = requested.map((r): DebugProtocol.Breakpoint => {
      const base = Number(r.instructionReference);
      if (!Number.isFinite(base)) return { verified: false, message: `'${r.instructionReference}' is not an address` };
      const address = (base + (r.offset ?? 0)) >>> 0;
      const addresses = new Map<Domain, number[]>();
      // In the domains whose code is there; in every domain if none's is.
      const owners = this.guests.filter((g) => g.program.isCode(address));
      for (const g of owners.length > 0 ? owners : this.guests) addresses.set(g.domain, [address]);
      const made = this.make(addresses, r);
      if ('error' in made) return { verified: false, message: made.error };
      this.instructions.push(made);
      return { id: made.id, verified: true, instructionReference: hex(address) };
    });
    this.install();
    return out;
  }

  setExceptionFilters(filters: readonly string[]): string | null {
    const unknown = filters.filter((f) => !EXCEPTION_FILTERS.some((x) => x.filter === f));
    if (unknown.length > 0) return `unknown exception filter '${unknown[0]}' (known: ${EXCEPTION_FILTERS.map((f) => f.filter).join(', ')})`;
    this.filters = new Set(filters);
    return null;
  }

  private make(addresses: Map<Domain, number[]>, r: { condition?: string; hitCondition?: string; logMessage?: string }): Breakpoint | { error: string } {
    let condition: Expr | null = null;
    if (r.condition !== undefined && r.condition.trim() !== '') {
      const p = parseExpression(r.condition);
      if (!p.ok) return { error: `condition: ${p.error.message} (column ${p.error.column + 1})` };
      condition = p.expr;
    }
    let hitCondition: Breakpoint['hitCondition'] = null;
    if (r.hitCondition !== undefined && r.hitCondition.trim() !== '') {
      const m = /^\s*(>=|==|%)?\s*(\d+)\s*$/.exec(r.hitCondition);
      if (!m || Number(m[2]) === 0) return { error: `hit count '${r.hitCondition}': use N, >= N, == N or % N (N > 0)` };
      hitCondition = { op: (m[1] ?? '>=') as '>=' | '==' | '%', n: Number(m[2]) };
    }
    return { id: this.nextId++, condition, hitCondition, logMessage: r.logMessage ?? null, hits: 0, addresses };
  }

  private all(): Breakpoint[] {
    return [...[...this.bySource.values()].flat(), ...this.functions, ...this.instructions];
  }

  /** Puts every address on the CPUs of its domain (the temporary stop too). */
  install(): void {
    for (const g of this.guests) {
      const want = new Set<number>();
      for (const b of this.all()) for (const a of b.addresses.get(g.domain) ?? []) want.add(a);
      for (const v of g.domain.vcpus) {
        v.cpu.clearBreakpoints();
        for (const a of want) v.cpu.addBreakpoint(a);
        if (this.temp !== null && this.temp.vcpu === v) v.cpu.addBreakpoint(this.temp.address);
      }
    }
  }

  /** The stop policy over these breakpoints and filters. */
  readonly policy: StopPolicy = {
    breakpoint: (v, address, replaying) => {
      let stop = false;
      const t = this.temp;
      if (t !== null && t.vcpu === v && t.address === address && v.cpu.regs[4] >>> 0 >= t.esp) stop = true;
      for (const b of this.all()) {
        if (!(b.addresses.get(v.d)?.includes(address) ?? false)) continue;
        if (b.condition !== null) {
          const r = evaluateExpression(b.condition, exprContext(v, this.programOf(v.d)));
          // A condition that cannot be evaluated stops (and says why) rather than hiding the breakpoint.
          if (!r.ok) {
            if (!replaying) this.onLog(`breakpoint ${b.id}: condition not evaluated: ${r.error.message}\n`);
          } else if (r.value === 0) continue;
        }
        if (!replaying) b.hits++;
        const h = b.hitCondition;
        // Hit counts count forwards only: a reverse search stops at every hit.
        if (!replaying && h !== null && !(h.op === '>=' ? b.hits >= h.n : h.op === '==' ? b.hits === h.n : b.hits % h.n === 0)) continue;
        if (b.logMessage !== null) {
          if (!replaying) this.onLog(this.interpolate(b.logMessage, v) + '\n');
          continue;
        }
        stop = true;
      }
      return stop;
    },
    event: (e) => {
      const p = this.passFault;
      if (p !== null && e.kind === 'trap' && e.vcpu === p.vcpu && e.vcpu.cpu.instructions === p.instructions) {
        this.passFault = null;
        return false;
      }
      const stop = this.exceptionStop(e);
      if (stop !== null) this.lastException = stop;
      return stop !== null;
    },
  };

  private programOf(d: Domain): Program | null {
    return this.guests.find((g) => g.domain === d)?.program ?? null;
  }

  /** `{expr}` in a log message, evaluated in the vCPU's context. */
  private interpolate(message: string, v: Vcpu): string {
    return message.replace(/\{([^{}]+)\}/g, (_, text: string) => {
      const p = parseExpression(text);
      if (!p.ok) return `{${text}: ${p.error.message}}`;
      const r = evaluateExpression(p.expr, exprContext(v, this.programOf(v.d)));
      return r.ok ? hex(r.value) : `{${text}: ${r.error.message}}`;
    });
  }

  /** Whether an event stops the machine under the filters, and how it is described. */
  private exceptionStop(e: DebugEvent): ExceptionStop | null {
    const f = this.filters;
    if (e.kind === 'ended') {
      const s = e.domain.state;
      const who = `dom${e.domain.domain} (${e.domain.name})`;
      if (s.kind === 'crashed' && f.has('crash')) return { filter: 'crash', description: `${who} crashed`, details: s.why };
      if (s.kind === 'shutdown' && f.has('shutdown')) return { filter: 'shutdown', description: `${who} shut down`, details: `reason ${s.reason}` };
      return null;
    }
    if (e.kind === 'hypercall') {
      if (!f.has('hypercall-error') || (e.result | 0) >= 0) return null;
      const h = hypercallByNumber(e.number);
      const errno = xenErrnoByValue(-(e.result | 0));
      return {
        filter: 'hypercall-error',
        description: `${h?.name ?? `hypercall ${e.number}`} returned ${errno ? `-${errno.name}` : e.result | 0}`,
        details: `arguments ${e.args.slice(0, h?.args.length ?? 5).map(hex).join(', ')}`,
      };
    }
    // A trap: which filters it meets.
    const v = e.vcpu;
    const name = `${VECTOR_NAMES[e.vector] || `vector ${e.vector}`}${e.errorCode >= 0 ? `(${e.errorCode})` : ''}`;
    const at = hex(v.cpu.eip);
    const before = e.software ? undefined : { vcpu: v, instructions: v.cpu.instructions, cycles: v.cpu.cycles };
    const handler = v.traps.get(e.vector);
    const fate = handler === undefined ? `no handler for vector ${e.vector} is registered with set_trap_table: Xen crashes the domain` : `Xen delivers it to the guest's handler at ${hex(handler.address)}`;
    if (e.vector === 13 && e.errorCode === 0 && !e.software) {
      const insn = decodeAt(v, v.cpu.eip >>> 0);
      if (insn !== null && insn.form.cls === 'privileged' && f.has('privileged')) {
        const pv = MNEMONICS[insn.form.mnemonic]?.pv;
        return { filter: 'privileged', description: `privileged instruction '${insn.form.mnemonic}' at ${at}: #GP(0) in ring 1`, details: `${fate}.${pv ? ` Paravirtual replacement: ${pv}` : ''}`, before };
      }
    }
    if (e.vector === 14 && f.has('pagefault')) {
      return { filter: 'pagefault', description: `page fault at ${at} accessing ${hex(v.cpu.cr2)}`, details: `${pfCode(e.errorCode)}; ${fate}`, before };
    }
    if (e.vector === 13 && f.has('gp')) return { filter: 'gp', description: `general protection fault ${name} at ${at}`, details: fate, before };
    if (f.has('trap') && !(e.software && e.vector === 0x82)) return { filter: 'trap', description: `${name} at ${at}`, details: fate, before };
    return null;
  }
}

function decodeAt(v: Vcpu, eip: number) {
  const bytes = readGuest(v, eip, 15);
  const r = decode(bytes, 0, eip);
  return r.ok ? r.insn : null;
}

/** A page fault's error code in words. */
export function pfCode(code: number): string {
  return [code & 1 ? 'protection violation' : 'page not present', code & 2 ? 'on a write' : 'on a read', code & 4 ? 'from ring 3' : 'from the kernel'].join(' ');
}

