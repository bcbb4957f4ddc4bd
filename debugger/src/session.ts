// The debug adapter: DAP over the simulated machine, in-process. One thread per vCPU of
// every domain; stop-all; stepping runs only the stepped vCPU unless the launch turns
// scheduler locking off (and a blocked vCPU lets the others run until it wakes); forwards
// and backwards through DebugMachine. Files come through LaunchFiles, so the same session
// runs over stdio in Node and in a browser worker.

import {
  DebugSession, InitializedEvent, InvalidatedEvent, MemoryEvent, OutputEvent, Scope, Source, StoppedEvent, TerminatedEvent, Thread, ThreadEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { decode } from '../../isa/src/index.js';
import { BUILTIN_PREFIX, builtinInclude, formatInstruction } from '../../asm/src/index.js';
import { ESP } from '../../hypervisor/src/cpu.js';
import { PAGE_SHIFT } from '../../hypervisor/src/memory.js';
import { DOMID_XEN } from '../../hypervisor/src/xen/abi.js';
import { bootMachine } from '../../hypervisor/src/xen/boot.js';
import { destroyDomain, pauseDomain, unpauseDomain } from '../../hypervisor/src/xen/control.js';
import { PGT_NONE, PGT_WRITABLE } from '../../hypervisor/src/xen/frames.js';
import type { Vcpu } from '../../hypervisor/src/xen/vcpu.js';
import { XenRequest, isXenViewError, type TranslateArguments, type TranslateBody, type TranslatedPage } from '../../protocol/src/index.js';
import { Breakpoints, EXCEPTION_FILTERS, type ExceptionStop, type Guest } from './breakpoints.js';
import { evaluate, REGISTER_NAMES } from './expr.js';
import { readGuest, readSpace, toMachine, translate, type AddressSpace } from './guestmem.js';
import { formatLaunchError, LAUNCH_DEFAULTS, loadLaunch, type LaunchArgs, type LaunchFiles } from './launch.js';
import { DebugMachine, type Stop, type StopPolicy } from './machine.js';
import { Program } from './program.js';
import { HypercallSites, hypercallPageOf } from './sites.js';
import { callStack, type StackFrame } from './stack.js';
import { domainScope, exprContext, registers, vcpuScope, type Value } from './variables.js';
import * as views from './views.js';
import { hex } from './views.js';

export interface XenLaunchArguments extends DebugProtocol.LaunchRequestArguments, LaunchArgs {
  stopOnEntry?: boolean;
  /** Stop after this many cycles of machine time (1 cycle = 1 ns). */
  maxCycles?: number;
  /** 'step' (default): stepping runs only the stepped vCPU; 'off': every vCPU runs while one steps. */
  schedulerLocking?: 'step' | 'off';
  /** Cycles of machine time between snapshots (reverse debugging): memory against stepBack time (at least; see DebugMachine). */
  snapshotSpacing?: number;
  /** Behave as a debug build of Xen: a hypercall leaves 0xDEADF00D in the argument registers it took. */
  debugXen?: boolean;
}

/** A request that fails with this message gets an error response (and the adapter goes on). */
class RequestError extends Error {}

const MAX_LINE_STEP = 200_000;
const RUN_WITHOUT_STOPS: StopPolicy = { breakpoint: () => false, event: () => false };
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class XenDebugSession extends DebugSession {
  private dm: DebugMachine | null = null;
  private guests: Guest[] = [];
  private bps: Breakpoints | null = null;
  private launchArgs: XenLaunchArguments | null = null;
  private configured = false;
  private launched = false;
  private running = false;
  /** The thread that stopped last (the default for requests without one). */
  private focus: Vcpu | null = null;
  private frames = new Map<number, { v: Vcpu; frame: StackFrame; index: number }>();
  private variables = new Map<number, () => Value[]>();
  private nextHandle = 1;
  private sources = new Map<string, number>();
  private log = new views.HypercallLog();
  private sites = new HypercallSites();
  private exception: ExceptionStop | null = null;
  private ended = false;
  /** Memory the client has read (its memory views), with what it saw: a stop that changes it sends a memory event. */
  private readonly shown = new Map<string, { reference: string; offset: number; count: number; data: string }>();

  constructor(private readonly files: LaunchFiles) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // Every request goes through here: a failure is an error response, never a crash.
  protected override dispatchRequest(request: DebugProtocol.Request): void {
    try {
      super.dispatchRequest(request);
    } catch (e) {
      this.fail(request, e);
    }
  }

  private fail(request: DebugProtocol.Request, e: unknown): void {
    this.failResponse({ seq: 0, type: 'response', request_seq: request.seq, command: request.command, success: false }, e);
  }

  /** A RequestError's message as is; anything else is the adapter's own fault, and says so. */
  private failResponse(response: DebugProtocol.Response, e: unknown): void {
    response.success = false;
    const message = e instanceof Error ? e.message : String(e);
    this.sendErrorResponse(response, { id: e instanceof RequestError ? 2000 : 2001, format: e instanceof RequestError ? message : `internal error: ${message}`, showUser: false });
  }

  /** Runs a request handler that may be async; a throw becomes an error response. */
  private handle<R extends DebugProtocol.Response>(response: R, body: () => Promise<R['body'] | void> | R['body'] | void): void {
    Promise.resolve()
      .then(body)
      .then((b) => {
        if (b !== undefined) response.body = b;
        this.sendResponse(response);
      })
      .catch((e) => this.failResponse(response, e));
  }

  // ---- Lifecycle ----------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsStepBack: true,
      supportsSetVariable: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: [' ', '['],
      supportsExceptionInfoRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsSteppingGranularity: true,
      supportsInstructionBreakpoints: true,
      supportsSingleThreadExecutionRequests: true,
      supportsTerminateRequest: true,
      supportsBreakpointLocationsRequest: true,
      supportsValueFormattingOptions: false,
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: XenLaunchArguments): void {
    this.handle(response, () => {
      if (this.launched) throw new RequestError('already launched');
      const loaded = loadLaunch(args, this.files);
      if (!loaded.ok) {
        const text = loaded.errors.map(formatLaunchError).join('\n');
        this.sendEvent(new OutputEvent(text + '\n', 'stderr'));
        throw new RequestError(`cannot launch: ${text}`);
      }
      const machine = bootMachine(loaded.domains.map((d) => d.spec));
      if ('error' in machine) throw new RequestError(machine.error);
      machine.xen.clobberArguments = args.debugXen === true;
      this.guests = machine.domains.map((domain, i) => ({ domain, program: new Program(loaded.domains[i].image, loaded.domains[i].callSites) }));
      const dm = new DebugMachine(machine, args.maxCycles ?? Infinity, args.snapshotSpacing ?? LAUNCH_DEFAULTS.snapshotSpacing);
      this.dm = dm;
      this.launchArgs = args;
      this.bps = new Breakpoints(this.guests, sameFile);
      this.bps.onLog = (text) => this.sendEvent(new OutputEvent(text, 'console'));
      // Output and the hypercall log as the machine really runs, not as a reverse request repeats it.
      for (const g of this.guests) {
        g.domain.onConsole = (text) => {
          if (!dm.isReplaying) this.sendEvent(new OutputEvent(text, `dom${g.domain.domain}`, { domain: g.domain.domain, name: g.domain.name }));
        };
      }
      const trace = this.log.tracer(machine.xen);
      const pages = new Map(this.guests.map((g) => [g.domain, hypercallPageOf(g.program.image.notes)]));
      machine.xen.onHypercall = (d, n, a, r) => {
        if (dm.isReplaying) return;
        trace(d, n, a, r);
        this.sites.record(d, pages.get(d) ?? null, n, r);
      };
      this.launched = true;
      this.sendEvent(new InitializedEvent());
      this.maybeStart();
    });
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured = true;
    this.sendResponse(response);
    this.maybeStart();
  }

  /** After both launch and configurationDone: stop on entry, or run. */
  private maybeStart(): void {
    if (!this.configured || !this.launched || this.running || this.focus !== null) return;
    const v = this.guests[0].domain.vcpus[0];
    this.focus = v;
    if (this.launchArgs?.stopOnEntry && !this.launchArgs.noDebug) this.sendEvent(new StoppedEvent('entry', this.threadId(v)));
    else void this.resume(() => this.machine.forward(this.policy, { yieldEvery: yieldToEvents }));
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.dm?.pause();
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.dm?.pause();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  private get machine(): DebugMachine {
    if (this.dm === null) throw new RequestError('no guest is running: launch first');
    return this.dm;
  }

  /** Without debugging (`noDebug`) nothing stops the machine: breakpoints and exception filters are kept but not heeded. */
  private get policy() {
    return this.launchArgs?.noDebug ? RUN_WITHOUT_STOPS : this.bps!.policy;
  }

  // ---- Threads, stacks, variables -------------------------------------------------------------

  private threadId(v: Vcpu): number {
    return v.d.domain * 64 + v.id + 1;
  }

  private vcpuOf(threadId: number | undefined): Vcpu {
    if (threadId === undefined) {
      if (this.focus === null) throw new RequestError('no thread has stopped yet');
      return this.focus;
    }
    const v = this.liveVcpus.find((x) => this.threadId(x) === threadId);
    if (v === undefined) throw new RequestError(`unknown thread ${threadId}`);
    return v;
  }

  /** The vCPUs of the domains not destroyed (a step back past a destroy brings them back). */
  private get liveVcpus(): Vcpu[] {
    const xen = this.machine.xen;
    return this.machine.vcpus.filter((v) => xen.domains.get(v.d.domain) === v.d);
  }

  private guestOf(v: Vcpu): Guest {
    return this.guests.find((g) => g.domain === v.d)!;
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: this.dm === null ? [] : this.liveVcpus.map((v) => new Thread(this.threadId(v), `dom${v.d.domain} (${v.d.name}) vcpu${v.id}`)) };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.handle(response, () => {
      this.ensureStopped();
      const v = this.vcpuOf(args.threadId);
      const program = this.guestOf(v).program;
      const all = callStack(v, program);
      const start = args.startFrame ?? 0;
      const count = args.levels && args.levels > 0 ? args.levels : all.length;
      const stackFrames = all.slice(start, start + count).map((f, i): DebugProtocol.StackFrame => {
        const id = this.nextHandle++;
        this.frames.set(id, { v, frame: f, index: start + i });
        // A caller is shown at its call: the instruction before the return address.
        const loc = program.locate(start + i > 0 ? (f.pc - 1) >>> 0 : f.pc);
        const label = program.labelAt(f.pc);
        const name = label ? `${label.name}${label.offset ? `+${label.offset}` : ''}` : hex(f.pc);
        return {
          id, name, line: loc?.line ?? 0, column: loc?.column ?? 0,
          source: loc ? this.source(loc.file) : undefined,
          instructionPointerReference: hex(f.pc),
          presentationHint: loc ? 'normal' : 'subtle',
        };
      });
      return { stackFrames, totalFrames: all.length };
    });
  }

  private source(file: string): DebugProtocol.Source {
    const name = file.slice(file.lastIndexOf('/') + 1);
    if (!file.startsWith(BUILTIN_PREFIX)) return new Source(name, file);
    // Built-in includes (xen.inc) have no file: their text comes with a source request.
    let ref = this.sources.get(file);
    if (ref === undefined) this.sources.set(file, (ref = this.sources.size + 1));
    return { name, path: file, sourceReference: ref, presentationHint: 'deemphasize' };
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    this.handle(response, () => {
      const file = [...this.sources].find(([, ref]) => ref === (args.source?.sourceReference ?? args.sourceReference))?.[0];
      const text = file !== undefined ? builtinInclude(file.slice(BUILTIN_PREFIX.length)) : null;
      if (text === null || text === undefined) throw new RequestError(`no source with reference ${args.sourceReference}`);
      return { content: text, mimeType: 'text/x-xasm' };
    });
  }

  private frameOf(frameId: number | undefined): { v: Vcpu; frame: StackFrame; index: number } {
    if (frameId === undefined) {
      const v = this.vcpuOf(undefined);
      return { v, frame: callStack(v, null)[0], index: 0 };
    }
    const f = this.frames.get(frameId);
    if (f === undefined) throw new RequestError(`unknown frame ${frameId} (frames last until the machine runs again)`);
    return f;
  }

  private handleFor(values: () => Value[]): number {
    const id = this.nextHandle++;
    this.variables.set(id, values);
    return id;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    this.handle(response, () => {
      const { v, frame, index } = this.frameOf(args.frameId);
      const program = this.guestOf(v).program;
      const regs = index === 0 ? () => registers(v) : () => registers(v, frame.pc, frame.slot === null ? undefined : (frame.slot + 4) >>> 0);
      return {
        scopes: [
          new Scope(index === 0 ? 'Registers' : 'Registers (caller)', this.handleFor(regs), false),
          new Scope(`vCPU ${v.id}`, this.handleFor(() => vcpuScope(v, program)), false),
          new Scope(`Domain ${v.d.domain} (${v.d.name})`, this.handleFor(() => domainScope(v)), true),
        ],
      };
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.handle(response, () => {
      const values = this.variables.get(args.variablesReference);
      if (values === undefined) throw new RequestError(`unknown variables reference ${args.variablesReference}`);
      return {
        variables: values().map((x): DebugProtocol.Variable => ({
          name: x.name, value: x.value,
          variablesReference: x.children ? this.handleFor(x.children) : 0,
          memoryReference: x.address !== undefined ? hex(x.address) : undefined,
        })),
      };
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    this.handle(response, () => {
      this.ensureStopped();
      const values = this.variables.get(args.variablesReference);
      if (values === undefined) throw new RequestError(`unknown variables reference ${args.variablesReference}`);
      const x = values().find((y) => y.name === args.name);
      if (x === undefined) throw new RequestError(`no variable '${args.name}' here`);
      if (x.set === undefined) throw new RequestError(`'${args.name}' cannot be set`);
      const v = this.focus!;
      const r = evaluate(args.value, exprContext(v, this.guestOf(v).program));
      if (!r.ok) throw new RequestError(`${r.error.message} (column ${r.error.column + 1})`);
      let error: string | null = null;
      this.machine.edit(() => {
        error = x.set!(r.value);
      });
      if (error !== null) throw new RequestError(error);
      const now = values().find((y) => y.name === args.name)!;
      this.sendEvent(new InvalidatedEvent(['variables']));
      return { value: now.value };
    });
  }

  // ---- Running ---------------------------------------------------------------------------

  private ensureStopped(): void {
    if (this.running) throw new RequestError('the machine is running: pause it first');
    this.machine;
  }

  /** Runs something that moves the machine, then reports the stop. */
  private async resume(move: () => Promise<Stop> | Stop, stepped?: Vcpu): Promise<void> {
    this.running = true;
    this.frames.clear();
    this.variables.clear();
    this.exception = null;
    this.bps!.lastException = null;
    // Only from the fault's own stop does going on let it through.
    const pass = this.bps!.passFault;
    if (pass !== null && pass.vcpu.cpu.instructions !== pass.instructions) this.bps!.passFault = null;
    let stop: Stop;
    try {
      stop = await move();
    } finally {
      this.running = false;
      this.bps!.temp = null;
      this.bps!.install();
    }
    this.report(stop, stepped);
  }

  private report(stop: Stop, stepped?: Vcpu): void {
    const dm = this.machine;
    if (this.launchArgs?.noDebug) {
      // A run without debugging ends where a debugger would stop for good, and goes on past a data watch.
      const why = stop.kind === 'ended' ? 'every domain has ended' : stop.kind === 'idle' ? 'every vCPU is blocked with nothing to wake it'
        : stop.kind === 'limit' ? `the cycle limit (${this.launchArgs.maxCycles}) is reached` : null;
      if (why !== null) {
        this.sendEvent(new OutputEvent(`xenolab: ${why}\n`, 'console'));
        this.sendEvent(new TerminatedEvent());
        return;
      }
      if (stop.kind !== 'pause') return void this.resume(() => this.machine.forward(this.policy, { yieldEvery: yieldToEvents }));
    }
    let reason = 'pause', v: Vcpu | null = stepped ?? this.focus, description: string | undefined, text: string | undefined;
    switch (stop.kind) {
      case 'step': reason = 'step'; v = stop.vcpu; break;
      case 'breakpoint': reason = 'breakpoint'; v = stop.vcpu; break;
      case 'data': {
        reason = 'data breakpoint';
        v = stop.vcpu ?? v;
        const h = stop.hit;
        description = `${h.write ? 'write' : 'read'} of ${h.size} bytes at machine address ${hex(h.address)}${h.by === 'host' ? ' by Xen or dom0' : ''}`;
        break;
      }
      case 'event': {
        const x = this.bps!.lastException;
        reason = 'exception';
        v = stop.vcpu ?? (stop.event.kind === 'ended' ? stop.event.domain.vcpus[0] : v);
        if (x !== null) {
          this.exception = x;
          description = x.description;
          text = x.details;
          // A fault is shown where it happened: back to before the faulting instruction.
          if (x.before) {
            dm.goBackTo({ kind: 'top', vcpu: x.before.vcpu, instructions: x.before.instructions, cycles: x.before.cycles });
            v = x.before.vcpu;
            this.bps!.passFault = x.before;
          }
        }
        break;
      }
      case 'beginning': reason = 'entry'; description = 'the start of the recorded run'; break;
      case 'ended':
        if (!this.ended) {
          this.ended = true;
          this.sendEvent(new OutputEvent('xenolab: every domain has ended (step back to look at what happened)\n', 'console'));
        }
        description = 'every domain has ended';
        break;
      case 'idle': description = 'every vCPU is blocked with nothing to wake it'; break;
      case 'limit': description = `the cycle limit (${this.launchArgs?.maxCycles}) is reached`; break;
      case 'pause': break;
    }
    if (v !== null) this.focus = v;
    const ev = new StoppedEvent(reason, this.focus ? this.threadId(this.focus) : undefined) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (description !== undefined) ev.body.description = description;
    if (text !== undefined) ev.body.text = text;
    this.sendEvent(ev);
    this.memoryEvents();
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): void {
    this.handle(response, () => {
      this.ensureStopped();
      const only = args.singleThread ? this.vcpuOf(args.threadId) : null;
      void this.resume(() => this.machine.forward(this.policy, { only, yieldEvery: yieldToEvents }));
      return { allThreadsContinued: only === null };
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => {
      this.machine.pause();
    });
  }

  /** Whether a step of `v` runs it alone (scheduler locking) or every vCPU. */
  private alone(singleThread: boolean | undefined): boolean {
    return singleThread === true || (this.launchArgs?.schedulerLocking ?? LAUNCH_DEFAULTS.schedulerLocking) !== 'off';
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.step(response, args, 'over');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.step(response, args, 'in');
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.handle(response, () => {
      this.ensureStopped();
      const v = this.vcpuOf(args.threadId);
      const caller = callStack(v, this.guestOf(v).program)[1];
      if (caller === undefined || caller.slot === null) throw new RequestError('no caller frame: nothing on the stack is a return address into the program');
      void this.resume(() => this.runTo(v, caller.pc, (caller.slot! + 4) >>> 0, this.alone(args.singleThread)), v);
    });
  }

  private step(response: DebugProtocol.Response, args: DebugProtocol.NextArguments, kind: 'over' | 'in'): void {
    this.handle(response, () => {
      this.ensureStopped();
      const v = this.vcpuOf(args.threadId);
      const alone = this.alone(args.singleThread);
      const byInstruction = args.granularity === 'instruction';
      void this.resume(() => this.stepLine(v, kind, byInstruction, alone), v);
    });
  }

  /** One instruction, or one line: instructions until the vCPU is at the start of another line. */
  private async stepLine(v: Vcpu, kind: 'over' | 'in', byInstruction: boolean, alone: boolean): Promise<Stop> {
    const dm = this.machine;
    const program = this.guestOf(v).program;
    const from = program.locate(v.cpu.eip >>> 0);
    for (let n = 0; n < MAX_LINE_STEP; n++) {
      const eip = v.cpu.eip >>> 0;
      const insn = decode(readGuest(v, eip, 15), 0, eip);
      let stop: Stop;
      if (kind === 'over' && insn.ok && insn.insn.form.mnemonic === 'call') {
        // Over the call: to the instruction after it, with the stack back where it was.
        stop = await this.runTo(v, (eip + insn.insn.length) >>> 0, v.cpu.regs[ESP] >>> 0, alone);
        if (stop.kind !== 'breakpoint' || stop.vcpu !== v || (v.cpu.eip >>> 0) !== ((eip + insn.insn.length) >>> 0)) return stop;
        stop = { kind: 'step', vcpu: v };
      } else stop = await dm.stepInstruction(v, this.policy, alone, yieldToEvents);
      if (stop.kind !== 'step') return stop;
      if (byInstruction) return stop;
      const here = v.cpu.eip >>> 0;
      const at = program.locate(here);
      if (at === null || ((at.line !== from?.line || at.file !== from?.file) && program.isLineStart(here))) return stop;
      if (n % 256 === 255) await yieldToEvents();
    }
    return { kind: 'pause' };
  }

  /** Runs until `v` is at `address` with ESP at least `esp` (the return of a call), or something else stops it. */
  private async runTo(v: Vcpu, address: number, esp: number, alone: boolean): Promise<Stop> {
    this.bps!.temp = { vcpu: v, address, esp };
    this.bps!.install();
    const stop = await this.machine.forward(this.policy, { only: alone ? v : null, yieldEvery: yieldToEvents });
    if (stop.kind === 'breakpoint' && stop.vcpu === v && (v.cpu.eip >>> 0) === address) return { kind: 'step', vcpu: v };
    return stop;
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.handle(response, () => {
      this.ensureStopped();
      const v = this.vcpuOf(args.threadId);
      void this.resume(() => this.stepBackLine(v, args.granularity === 'instruction'), v);
    });
  }

  /** Back one instruction, or to the start of the line run before this one. */
  private stepBackLine(v: Vcpu, byInstruction: boolean): Stop {
    const dm = this.machine;
    const program = this.guestOf(v).program;
    const from = program.locate(v.cpu.eip >>> 0);
    // A line that loops on itself (`jmp $`) has no start to go back to: give up after a while.
    const until = performance.now() + 2000;
    for (let n = 0; performance.now() < until; n++) {
      const stop = dm.stepBack(v);
      if (stop.kind !== 'step' || byInstruction) return stop;
      const here = v.cpu.eip >>> 0;
      const at = program.locate(here);
      if (at === null || ((at.line !== from?.line || at.file !== from?.file) && program.isLineStart(here))) return stop;
    }
    return { kind: 'step', vcpu: v };
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.handle(response, () => {
      this.ensureStopped();
      void this.resume(() => this.machine.reverse(this.policy));
    });
  }

  // ---- Breakpoints ------------------------------------------------------------------------

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.handle(response, () => {
      const path = args.source.path ?? [...this.sources].find(([, r]) => r === args.source.sourceReference)?.[0];
      if (path === undefined) throw new RequestError('setBreakpoints needs a source path');
      const requested = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
      return { breakpoints: this.breakpoints.setSource(path, requested) };
    });
  }

  protected override breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    this.handle(response, () => {
      const path = args.source.path ?? '';
      const end = args.endLine ?? args.line;
      const lines = new Set<number>();
      for (const g of this.guests) {
        const f = [...g.program.files, ...g.program.callSiteFiles].find((x) => sameFile(x, path));
        if (f === undefined) continue;
        for (let l = args.line; l <= end; l++) if (g.program.addressesOf(f, l).length > 0) lines.add(l);
      }
      return { breakpoints: [...lines].sort((a, b) => a - b).map((line) => ({ line })) };
    });
  }

  private get breakpoints(): Breakpoints {
    if (this.bps === null) throw new RequestError('breakpoints are set after launch (the adapter sends initialized then)');
    return this.bps;
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.handle(response, () => ({ breakpoints: this.breakpoints.setFunctions(args.breakpoints) }));
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.handle(response, () => ({ breakpoints: this.breakpoints.setInstructions(args.breakpoints) }));
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.handle(response, () => {
      const error = this.breakpoints.setExceptionFilters([...args.filters, ...(args.filterOptions ?? []).map((o) => o.filterId)]);
      if (error !== null) throw new RequestError(error);
      return { breakpoints: args.filters.map(() => ({ verified: true })) };
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    this.handle(response, () => {
      this.vcpuOf(args.threadId);
      const x = this.exception;
      if (x === null) throw new RequestError('the last stop was not for an exception');
      return { exceptionId: x.filter, description: x.description, breakMode: 'always' as const, details: { message: x.details, typeName: x.filter } };
    });
  }

  /** A data breakpoint's id: `d<domain>:<va>:<bytes>` (guest virtual) or `m:<pa>:<bytes>` (machine). */
  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.handle(response, () => {
      const bytes = Math.max(1, Math.min(4096, args.bytes ?? 4));
      const v = this.frameOf(args.frameId).v;
      let address: number | null = null;
      let machineAddress = false;
      const name = args.name.trim();
      if (args.variablesReference !== undefined && args.variablesReference > 0) {
        const x = this.variables.get(args.variablesReference)?.().find((y) => y.name === name);
        address = x?.address ?? null;
      } else if (/^m:/i.test(name)) {
        const n = Number(name.slice(2));
        address = Number.isFinite(n) ? n >>> 0 : null;
        machineAddress = true;
      } else {
        const r = evaluate(name, exprContext(v, this.guestOf(v).program));
        address = r.ok ? r.value : null;
        if (!r.ok && !args.asAddress) return { dataId: null, description: `cannot watch '${name}': ${r.error.message}` };
      }
      if (address === null) return { dataId: null, description: `'${name}' is not an address` };
      const where = machineAddress ? `m:${hex(address)}` : `d${v.d.domain}:${hex(address)}`;
      return { dataId: `${where}:${bytes}`, description: `${bytes} bytes at ${machineAddress ? 'machine address' : `dom${v.d.domain} address`} ${hex(address)}`, accessTypes: ['read', 'write', 'readWrite'] as DebugProtocol.DataBreakpointAccessType[], canPersist: false };
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.handle(response, () => {
      const dm = this.machine;
      const watches: { id: number; start: number; length: number; read: boolean; write: boolean }[] = [];
      const breakpoints = args.breakpoints.map((b, i): DebugProtocol.Breakpoint => {
        const m = /^(?:d(\d+)|m):(0x[0-9a-f]+):(\d+)$/i.exec(b.dataId);
        if (!m) return { verified: false, message: `'${b.dataId}' is not a data breakpoint id of this adapter` };
        const length = Number(m[3]);
        let pa = Number(m[2]);
        if (m[1] !== undefined) {
          const d = this.guests.find((g) => g.domain.domain === Number(m[1]))?.domain;
          if (d === undefined) return { verified: false, message: `no domain ${m[1]}` };
          // Watched where it is mapped now (page by page it may be anywhere: one page is watched).
          const t = translate(d.vcpus[0], Number(m[2]));
          if (t === null) return { verified: false, message: `${m[2]} is not mapped in dom${m[1]}` };
          pa = t.pa;
        }
        if (!dm.xen.mem.contains(pa, length)) return { verified: false, message: `${hex(pa)} is outside machine memory` };
        const access = b.accessType ?? 'write';
        watches.push({ id: i + 1, start: pa, length: Math.min(length, 4096 - (pa & 4095)), read: access !== 'write', write: access !== 'read' });
        return { id: 100_000 + i, verified: true, message: `${access} ${length} bytes at machine ${hex(pa)}` };
      });
      dm.setWatches(watches);
      return { breakpoints };
    });
  }

  // ---- Memory, disassembly, evaluation -------------------------------------------------------

  /**
   * A memory reference: `0x...` (the focused vCPU's address space), `d<N>:0x...` (domain N's),
   * `p<N>:0x...` (domain N's pseudo-physical addresses) or `m:0x...` (machine).
   */
  private resolve(reference: string, offset = 0): { space: AddressSpace; address: number } {
    const m = /^(?:([dp])(\d+):|(m):)?\s*(0x[0-9a-f]+|\d+)$/i.exec(reference.trim());
    if (!m) throw new RequestError(`'${reference}' is not a memory reference (0x..., d<N>:0x..., p<N>:0x... or m:0x...)`);
    const address = (Number(m[4]) + offset) >>> 0;
    const xen = this.machine.xen;
    if (m[3]) return { space: { kind: 'machine', mem: xen.mem }, address };
    if (m[1]) {
      const d = this.guests.find((g) => g.domain.domain === Number(m[2]))?.domain;
      if (d === undefined) throw new RequestError(`no domain ${m[2]}`);
      if (m[1].toLowerCase() === 'p') return { space: { kind: 'physical', domain: d, frames: xen.frames }, address };
      return { space: { kind: 'virtual', vcpu: d.active }, address };
    }
    return { space: { kind: 'virtual', vcpu: this.vcpuOf(undefined) }, address };
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.handle(response, () => {
      const count = Math.max(0, Math.min(args.count, 1 << 20));
      const { address, data, unreadable } = this.readRange(args.memoryReference, args.offset ?? 0, count);
      const key = `${args.memoryReference}+${args.offset ?? 0}`;
      this.shown.delete(key);
      this.shown.set(key, { reference: args.memoryReference, offset: args.offset ?? 0, count, data });
      if (this.shown.size > 32) this.shown.delete(this.shown.keys().next().value!);
      return { address: hex(address), data, unreadableBytes: unreadable };
    });
  }

  private readRange(reference: string, offset: number, count: number): { address: number; data: string; unreadable: number } {
    const { space, address } = this.resolve(reference, offset);
    const bytes = readSpace(space, address, count);
    return { address, data: base64(bytes), unreadable: count - bytes.length };
  }

  /** After a stop: a memory event for each range a memory view shows whose bytes changed. */
  private memoryEvents(): void {
    for (const r of this.shown.values()) {
      let now: string;
      try {
        now = this.readRange(r.reference, r.offset, r.count).data;
      } catch {
        continue; // a reference to the focused thread's space, with no thread: nothing to compare
      }
      if (now === r.data) continue;
      r.data = now;
      this.sendEvent(new MemoryEvent(r.reference, r.offset, r.count));
    }
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.handle(response, () => {
      this.ensureStopped();
      const { space, address } = this.resolve(args.memoryReference, args.offset ?? 0);
      const data = fromBase64(args.data);
      const dm = this.machine;
      const mem = dm.xen.mem;
      // Page by page: each must be mapped, and not a page table or descriptor table (whose
      // contents Xen validated; changing them behind its back would break isolation).
      const targets: number[] = [];
      for (let done = 0; done < data.length;) {
        const at = (address + done) >>> 0;
        const pa = toMachine(space, at)?.pa ?? -1;
        if (pa < 0) throw new RequestError(`${hex(at)} is not mapped${space.kind === 'virtual' ? ` in dom${space.vcpu.d.domain}` : space.kind === 'physical' ? ` in dom${space.domain.domain}'s pseudo-physical memory` : ''}: nothing written`);
        const type = dm.xen.frames.type[pa >>> PAGE_SHIFT];
        if (type !== PGT_NONE && type !== PGT_WRITABLE) throw new RequestError(`${hex(at)} is in a frame Xen validated as a page table or descriptor table: nothing written (use mmu_update in the guest)`);
        const chunk = Math.min(data.length - done, 4096 - (pa & 4095));
        targets.push(pa, done, chunk);
        done += chunk;
      }
      dm.edit(() => {
        for (let i = 0; i < targets.length; i += 3) mem.load(targets[i], data.subarray(targets[i + 1], targets[i + 1] + targets[i + 2]));
      });
      this.sendEvent(new MemoryEvent(args.memoryReference, args.offset ?? 0, data.length));
      this.sendEvent(new InvalidatedEvent(['variables']));
      return { bytesWritten: data.length };
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.handle(response, () => {
      const { space, address } = this.resolve(args.memoryReference, args.offset ?? 0);
      const vcpu = space.kind === 'virtual' ? space.vcpu : this.vcpuOf(undefined);
      const program = this.guestOf(vcpu).program;
      const count = Math.max(0, Math.min(args.instructionCount, 4096));
      // Backwards, instructions are found by decoding forwards from far enough before.
      let start = address;
      const skip = args.instructionOffset ?? 0;
      const starts: number[] = [];
      if (skip < 0) {
        const from = (address - 16 * -skip) >>> 0;
        for (let a = from; a < address;) {
          starts.push(a);
          const r = decode(readGuest(vcpu, a, 15), 0, a);
          a = (a + (r.ok ? r.insn.length : 1)) >>> 0;
        }
        start = starts.length >= -skip ? starts[starts.length + skip] : from;
      }
      const instructions: DebugProtocol.DisassembledInstruction[] = [];
      let a = start;
      for (let i = 0; i < Math.max(0, skip) + count; i++) {
        const bytes = readGuest(vcpu, a, 15);
        const loc = program.locate(a);
        const label = program.labelAt(a);
        let text: string, len: number;
        if (bytes.length === 0) {
          text = '?? (not mapped)';
          len = 1;
        } else {
          const r = decode(bytes, 0, a);
          len = r.ok ? r.insn.length : 1;
          text = r.ok ? formatInstruction(r.insn, { symbol: (t) => { const l = program.labelAt(t); return l && l.offset === 0 ? { name: l.name, offset: 0 } : undefined; } }) : `db 0x${bytes[0].toString(16).padStart(2, '0')}`;
        }
        if (i >= Math.max(0, skip)) {
          instructions.push({
            address: hex(a), instruction: text,
            instructionBytes: [...bytes.subarray(0, len)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
            symbol: label && label.offset === 0 ? label.name : undefined,
            location: loc ? this.source(loc.file) : undefined, line: loc?.line,
            presentationHint: bytes.length === 0 ? 'invalid' : undefined,
          });
        }
        a = (a + len) >>> 0;
      }
      return { instructions };
    });
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.handle(response, () => {
      const text = args.expression.trim();
      if (args.context === 'repl') {
        const out = this.command(text);
        if (out !== null) return { result: out, variablesReference: 0 };
      }
      if (this.dm === null) throw new RequestError('no guest is running: launch first');
      const { v } = this.frameOf(args.frameId);
      const r = evaluate(text, exprContext(v, this.guestOf(v).program));
      if (!r.ok) {
        if (args.context === 'hover') throw new RequestError(r.error.message);
        throw new RequestError(`${r.error.message} (column ${r.error.column + 1})`);
      }
      return { result: `${hex(r.value)} (${r.value}${(r.value | 0) < 0 ? `, ${r.value | 0}` : ''})`, variablesReference: 0, memoryReference: hex(r.value) };
    });
  }

  /** Debug Console commands; null when the text is an expression. */
  private command(text: string): string | null {
    const [word, ...rest] = text.split(/\s+/);
    const dm = () => this.machine;
    const machine = () => ({ xen: dm().xen, backends: dm().machine.backends });
    const domainArg = () => {
      const id = rest[0] !== undefined ? Number(rest[0]) : this.vcpuOf(undefined).d.domain;
      if (!Number.isInteger(id)) throw new RequestError(`'${rest[0]}' is not a domain id`);
      return id;
    };
    const text_ = (r: string | { error: string }) => {
      if (isXenViewError(r)) throw new RequestError(r.error);
      return r;
    };
    switch (word) {
      case 'help':
        return COMMANDS.map(([c, what]) => `${c.padEnd(18)} ${what}`).join('\n');
      case 'xl':
        if (rest[0] !== 'list') throw new RequestError(`'xl ${rest.join(' ')}': only 'xl list' is known`);
        return views.xlList(dm().xen);
      case 'pt': {
        if (rest.length === 0) throw new RequestError('pt needs a virtual address: pt VA [domain]');
        const v = this.vcpuOf(undefined);
        const r = evaluate(rest[0], exprContext(v, this.guestOf(v).program));
        if (!r.ok) throw new RequestError(`pt: ${r.error.message}`);
        const id = rest[1] !== undefined ? Number(rest[1]) : v.d.domain;
        return text_(views.ptWalk(dm().xen, id, r.value));
      }
      case 'evtchn':
        return text_(views.evtchnText(machine(), domainArg()));
      case 'gnttab':
        return text_(views.gnttabText(dm().xen, domainArg()));
      case 'ring':
        if (rest.length === 0) throw new RequestError('ring needs a ring name (see xen/rings)');
        return text_(views.ringText(machine(), rest.join(' ')));
      case 'snapshots': {
        const s = dm().snapshotStats;
        return `${s.snapshots} snapshots, ${(s.bytes / 1048576).toFixed(1)} MiB (${(s.base / 1048576).toFixed(1)} MiB of it the first copy of machine memory)`;
      }
      default:
        return null;
    }
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    this.handle(response, () => {
      const before = args.text.slice(0, (args.column ?? args.text.length + 1) - 1);
      const word = /[A-Za-z_.$@?][\w.$@?]*$/.exec(before)?.[0] ?? '';
      const labels = this.guests.flatMap((g) => g.program.labelNames);
      const words = [...COMMANDS.map(([c]) => c.split(' ')[0]), ...REGISTER_NAMES, ...labels];
      const targets = [...new Set(words)].filter((w) => w.startsWith(word) && w !== word).slice(0, 200);
      return { targets: targets.map((label) => ({ label, start: before.length - word.length, length: word.length, type: REGISTER_NAMES.includes(label) ? 'variable' as const : 'text' as const })) };
    });
  }

  // ---- Custom requests (side panels) ----------------------------------------------------------

  protected override customRequest(command: string, response: DebugProtocol.Response, args: Record<string, unknown> | undefined): void {
    this.handle(response, () => {
      const dm = this.machine;
      const a = (args ?? {}) as Record<string, never>;
      const machine = { xen: dm.xen, backends: dm.machine.backends };
      const body = (r: unknown) => {
        if (isXenViewError(r)) throw new RequestError(r.error);
        return r as Record<string, unknown>;
      };
      switch (command) {
        case XenRequest.domains: return body(views.domainList(dm.xen, a));
        case XenRequest.pageTables: return body(views.pageTables(dm.xen, a['domain'], a));
        case XenRequest.frameMap: return body(views.frameMap(dm.xen, a));
        case XenRequest.eventChannels: return body(views.eventChannels(machine, a['domain']));
        case XenRequest.grantTables: return body(views.grantTables(dm.xen, a['domain']));
        case XenRequest.rings: return body(views.rings(machine, a));
        case XenRequest.hypercallLog: return body(this.log.since(a['since'] ?? 0, a));
        case XenRequest.hypercallSites: {
          const locate = (domain: number, address: number) => this.guests.find((g) => g.domain.domain === domain)?.program.locate(address) ?? null;
          return body(this.sites.body(locate, a['domain']));
        }
        case XenRequest.translate: return this.translatePages(a);
        case XenRequest.pause:
        case XenRequest.unpause:
        case XenRequest.destroy:
          return this.control(command, a['domain']);
        case XenRequest.consoleInput: {
          const d = this.guests.find((g) => g.domain.domain === a['domain'])?.domain;
          if (d === undefined) throw new RequestError(`no domain ${String(a['domain'])}`);
          if (typeof a['text'] !== 'string') throw new RequestError('consoleInput needs text');
          dm.edit(() => dm.xen.input(d, a['text']));
          return {};
        }
        default:
          throw new RequestError(`unknown request '${command}'`);
      }
    });
  }

  /** The frames behind a memory reference's range, a page at a time (the memory panel's page types). */
  private translatePages(a: Partial<TranslateArguments>): TranslateBody {
    if (typeof a.memoryReference !== 'string') throw new RequestError('translate needs a memoryReference');
    const count = Math.max(1, Math.min(typeof a.count === 'number' ? a.count : 1, 1 << 20));
    const { space, address } = this.resolve(a.memoryReference, typeof a.offset === 'number' ? a.offset : 0);
    const frames = this.machine.xen.frames;
    const pages: TranslatedPage[] = [];
    const first = address >>> PAGE_SHIFT, last = (address + count - 1) >>> PAGE_SHIFT;
    for (let n = first; n <= last; n++) {
      const page = (n << PAGE_SHIFT) >>> 0;
      const t = toMachine(space, page);
      pages.push({
        address: page, machine: t ? t.pa : null, frame: t ? views.frameInfo(frames, t.pa >>> PAGE_SHIFT) : null,
        ...(space.kind === 'virtual' && t ? { writable: t.writable } : {}),
      });
    }
    return { pages, xenId: DOMID_XEN };
  }

  /** xl pause, unpause and destroy, as edits on the stopped machine's timeline. */
  private control(command: string, id: unknown): Record<string, never> {
    this.ensureStopped();
    const dm = this.machine;
    const d = typeof id === 'number' ? dm.xen.domains.get(id) : undefined;
    if (d === undefined) throw new RequestError(`no domain ${String(id)}`);
    if (command === XenRequest.pause) dm.edit(() => pauseDomain(dm.xen, d));
    else if (command === XenRequest.unpause) dm.edit(() => unpauseDomain(dm.xen, d));
    else {
      let result = 0;
      dm.edit(() => (result = destroyDomain(dm.xen, d)));
      if (result !== 0) throw new RequestError(`dom${d.domain} cannot be destroyed: another domain maps one of its grants (EBUSY)`);
      for (const v of d.vcpus) this.sendEvent(new ThreadEvent('exited', this.threadId(v)));
      if (this.focus?.d === d) this.focus = this.liveVcpus[0] ?? this.focus;
    }
    this.sendEvent(new InvalidatedEvent(['variables']));
    return {};
  }
}

const COMMANDS: readonly [string, string][] = [
  ['xl list', 'the domains, as xl list shows them'],
  ['pt VA [DOMAIN]', 'walk the page tables for a virtual address'],
  ['evtchn [DOMAIN]', 'the event channels of a domain'],
  ['gnttab [DOMAIN]', 'the grant table of a domain'],
  ['ring NAME', 'a shared I/O ring, its indices and pending entries'],
  ['snapshots', 'how many snapshots reverse debugging holds, and their size'],
  ['help', 'this list'],
  ['EXPR', 'an expression: registers, symbols, [addr] memory, C operators'],
];

/** Whether two paths name the same file (the client may send another case or separators on some systems). */
function sameFile(a: string, b: string): boolean {
  return a === b || a.replace(/\\/g, '/') === b.replace(/\\/g, '/');
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  let s: string;
  try {
    s = atob(text);
  } catch {
    throw new RequestError('data is not base64');
  }
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

