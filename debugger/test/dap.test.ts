// The debug adapter over a real process (dist/xenolab-dap.mjs, spoken to with
// @vscode/debugadapter-testsupport's DebugClient): launches of the seeds, every kind of
// breakpoint, stepping by line and instruction, step out, memory, evaluation,
// disassembly, stepping back and reverse-continuing to states equal to those seen going
// forward, several domains, and bad requests answered with errors.

import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

const ROOT = join(__dirname, '..', '..');
const DAP = join(ROOT, 'dist', 'xenolab-dap.mjs');
const SEEDS = join(ROOT, 'seeds');
const HELLO = join(SEEDS, 'hello.xasm');
const TRAPS = join(SEEDS, 'traps.xasm');
const PAGETABLES = join(SEEDS, 'pagetables.xasm');
const GREETING = 'Hello from a xenolab PV guest!';

/** The line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string, from = 1): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i].includes(text)) return i + 1;
  throw new Error(`'${text}' not in ${file}`);
}

let dc: DebugClient;

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')]);
});

afterEach(async () => {
  await dc?.stop().catch(() => undefined);
});

async function start(args: Record<string, unknown>, before?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  dc = new DebugClient('node', DAP, 'xenolab');
  await dc.start();
  await dc.initializeRequest();
  const stopped = dc.waitForEvent('stopped', 20_000) as Promise<DebugProtocol.StoppedEvent>;
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      await before?.();
      return dc.configurationDoneRequest();
    }),
    dc.launch(args),
  ]);
  return stopped;
}

async function top(threadId?: number) {
  const threads = (await dc.threadsRequest()).body.threads;
  const id = threadId ?? threads[0].id;
  const frames = (await dc.stackTraceRequest({ threadId: id })).body.stackFrames;
  return { threadId: id, frame: frames[0], frames };
}

async function registers(threadId?: number): Promise<Record<string, string>> {
  const { frame } = await top(threadId);
  const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  const vars = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

const next = async (threadId: number, granularity?: DebugProtocol.SteppingGranularity) => {
  const stopped = dc.waitForEvent('stopped');
  await dc.nextRequest({ threadId, granularity });
  return (await stopped) as DebugProtocol.StoppedEvent;
};

async function continueTo(threadId: number): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped', 20_000);
  await dc.continueRequest({ threadId });
  return (await stopped) as DebugProtocol.StoppedEvent;
}

describe('debug adapter', () => {
  it('launches a seed, stops on entry, names its thread after the domain and vCPU', async () => {
    const stopped = await start({ program: HELLO, stopOnEntry: true });
    expect(stopped.body.reason).toBe('entry');
    const threads = (await dc.threadsRequest()).body.threads;
    expect(threads.map((t) => t.name)).toEqual(['dom1 (hello) vcpu0']);
    const { frame } = await top();
    expect(frame.source?.path).toBe(HELLO);
    expect(frame.line).toBe(lineOf(HELLO, '    cld'));
    expect(frame.name).toBe('_start');
  });

  it('stops at a line breakpoint mapped through the line table, and at a function breakpoint', async () => {
    const line = lineOf(HELLO, 'mov [send_port], eax');
    const stopped = await start({ program: HELLO }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line }, { line: 2 }] });
      expect(r.body.breakpoints[0].verified).toBe(true);
      // A comment line has no code: refused, saying where the next code is.
      expect(r.body.breakpoints[1].verified).toBe(false);
      expect(r.body.breakpoints[1].message).toMatch(/no instruction at line 2/);
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'hypercall_page' }] });
    });
    expect(stopped.body.reason).toBe('breakpoint');
    expect((await top()).frame.line).toBe(line);
    // On to the function breakpoint: the hypercall page, where HYPERCALL_PAGE_CALL goes.
    const again = await continueTo(stopped.body.threadId!);
    expect(again.body.reason).toBe('breakpoint');
    const { frame, frames } = await top();
    expect(frame.name).toMatch(/^hypercall_page/);
    // The stack, from call/ret: the caller is _start, at the call to hypercall 0 (set_trap_table).
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames[1].name).toMatch(/^_start/);
    expect(frames[1].line).toBe(lineOf(HELLO, 'HYPERCALL_PAGE_CALL set_trap_table'));
  });

  it('launched with debugXen, a hypercall leaves 0xDEADF00D in the argument registers it took', async () => {
    const line = lineOf(HELLO, 'mov ebx, trap_table'); // after event_channel_op(cmd, arg): ebx and ecx
    const at = async (debugXen: boolean) => {
      await start({ program: HELLO, debugXen }, () => dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line }] }));
      const r = await registers();
      return [r.ebx, r.ecx].map(Number);
    };
    expect(await at(true)).toEqual([0xdeadf00d, 0xdeadf00d]);
    await dc.stop();
    expect(await at(false)).not.toContain(0xdeadf00d);
  });

  it('stops at a breakpoint inside a macro (on the invoking line and on the macro body line)', async () => {
    const invoke = lineOf(TRAPS, 'MAP shared, eax');
    const stopped = await start({ program: TRAPS }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: TRAPS }, breakpoints: [{ line: invoke }] });
      expect(r.body.breakpoints[0].verified).toBe(true);
    });
    expect(stopped.body.reason).toBe('breakpoint');
    // The first instruction the macro expanded to: `mov ebx, %1` in its body.
    const { frame } = await top();
    expect(frame.line).toBe(lineOf(TRAPS, 'mov ebx, %1'));
    expect((await registers()).eip).toBe(frame.instructionPointerReference);
  });

  it('a conditional breakpoint stops only when its condition holds; a hit count and a log point', async () => {
    const loop = lineOf(HELLO, 'mov al, [ring_line + ebx]');
    const stopped = await start({ program: HELLO }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: loop, condition: 'ebx == 5 && [esi] != 0' }] });
      expect(r.body.breakpoints[0].verified).toBe(true);
    });
    expect(stopped.body.reason).toBe('breakpoint');
    expect((await registers()).ebx).toBe('0x00000005');
    // A hit count: the third hit from here on; and a log point on the same loop.
    const output: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
    await dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: loop, hitCondition: '3' }, { line: loop + 1, logMessage: 'ebx is {ebx}' }] });
    await continueTo(stopped.body.threadId!);
    expect((await registers()).ebx).toBe('0x00000008'); // hits at 6, 7, then 8
    expect(output.filter((o) => o.startsWith('ebx is ')).length).toBeGreaterThanOrEqual(2);
    // A malformed condition is refused with where it went wrong.
    const bad = await dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: loop, condition: 'ebx ==' }] });
    expect(bad.body.breakpoints[0].verified).toBe(false);
    expect(bad.body.breakpoints[0].message).toMatch(/condition/);
  });

  it('steps by instruction, by line, into a call and out of it', async () => {
    const call = lineOf(HELLO, 'HYPERCALL_PAGE_CALL set_trap_table');
    const stopped = await start({ program: HELLO }, () => dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: call - 1 }] }));
    const t = stopped.body.threadId!;
    const before = await registers();
    expect((await next(t, 'instruction')).body.reason).toBe('step');
    const after = await registers();
    // mov ebx, trap_table: 5 bytes; EBX now the table's address.
    expect(Number(after.eip) - Number(before.eip)).toBe(5);
    expect(after.ebx).not.toBe(before.ebx);
    expect((await top()).frame.line).toBe(call);
    // Into the call (the hypercall page), then out, back to the line after it.
    const inStop = dc.waitForEvent('stopped');
    await dc.stepInRequest({ threadId: t, granularity: 'instruction' });
    await inStop;
    expect((await top()).frame.name).toMatch(/^hypercall_page/);
    const outStop = dc.waitForEvent('stopped');
    await dc.stepOutRequest({ threadId: t });
    expect(((await outStop) as DebugProtocol.StoppedEvent).body.reason).toBe('step');
    const back = await top();
    expect(back.frame.name).toMatch(/^_start/);
    expect(Number(back.frame.instructionPointerReference)).toBeGreaterThan(Number(after.eip));
    // By line over the next call: one line further, past the hypercall.
    const line = back.frame.line;
    await next(t);
    await next(t);
    expect((await top()).frame.line).toBeGreaterThan(line);
  });

  it('reads and writes guest memory, reports unmapped bytes, evaluates and disassembles', async () => {
    const stopped = await start({ program: HELLO, stopOnEntry: true });
    const t = stopped.body.threadId!;
    const greeting = await dc.evaluateRequest({ expression: 'greeting', context: 'repl' });
    const address = greeting.body.memoryReference!;
    const read = await dc.customRequest('readMemory', { memoryReference: address, count: 5 });
    expect(Buffer.from(read.body.data, 'base64').toString('latin1')).toBe(GREETING.slice(0, 5));
    await dc.customRequest('writeMemory', { memoryReference: address, data: Buffer.from('HOWDY').toString('base64') });
    const again = await dc.customRequest('readMemory', { memoryReference: address, count: 5 });
    expect(Buffer.from(again.body.data, 'base64').toString('latin1')).toBe('HOWDY');
    // Memory through [..] in expressions, little-endian.
    const word = await dc.evaluateRequest({ expression: 'byte [greeting] + (byte [greeting + 1] << 8)', context: 'watch' });
    expect(word.body.result).toMatch(/^0x00004f48/);
    // Below the guest's address space nothing is mapped: reported, not faked.
    const unmapped = await dc.customRequest('readMemory', { memoryReference: '0x1000', count: 16 });
    expect(unmapped.body.unreadableBytes).toBe(16);
    // Disassembly at EIP: the first instructions of _start, with their source lines.
    const dis = await dc.customRequest('disassemble', { memoryReference: (await top(t)).frame.instructionPointerReference, instructionCount: 3 });
    expect(dis.body.instructions.map((i: DebugProtocol.DisassembledInstruction) => i.instruction)).toEqual(['cld', expect.stringMatching(/^mov esp, 0x/), expect.stringMatching(/^mov \[/)]);
    expect(dis.body.instructions[0].line).toBe(lineOf(HELLO, '    cld'));
    // Console commands.
    expect((await dc.evaluateRequest({ expression: 'xl list', context: 'repl' })).body.result).toMatch(/hello\s+1/);
    expect((await dc.evaluateRequest({ expression: 'pt esp', context: 'repl' })).body.result).toMatch(/PTE/i);
  });

  it('stops on a data breakpoint when the guest writes the watched word', async () => {
    const stopped = await start({ program: HELLO, stopOnEntry: true });
    const info = await dc.customRequest('dataBreakpointInfo', { name: 'send_port', bytes: 4 });
    expect(info.body.dataId).toMatch(/^d1:0x/);
    const set = await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, accessType: 'write' }] });
    expect(set.body.breakpoints[0].verified).toBe(true);
    const hit = await continueTo(stopped.body.threadId!);
    expect(hit.body.reason).toBe('data breakpoint');
    // Stopped after the store: the instruction before EIP is `mov [send_port], eax`, and the word is EAX.
    const regs = await registers();
    const value = await dc.evaluateRequest({ expression: '[send_port]', context: 'watch' });
    expect(value.body.result.slice(0, 10)).toBe(regs.eax);
    expect((await top()).frame.line).toBe(lineOf(HELLO, 'mov [send_port], eax') + 1);
  });

  it('stops on exceptions by filter: a privileged instruction, then a page fault, at the faulting instruction', async () => {
    const stopped = await start({ program: TRAPS }, () => dc.setExceptionBreakpointsRequest({ filters: ['privileged', 'pagefault'] }));
    expect(stopped.body.reason).toBe('exception');
    expect(stopped.body.description).toMatch(/privileged instruction 'cli'/);
    expect((await top()).frame.line).toBe(lineOf(TRAPS, '    cli'));
    const info = await dc.customRequest('exceptionInfo', { threadId: stopped.body.threadId });
    expect(info.body.exceptionId).toBe('privileged');
    expect(info.body.details.message).toMatch(/handler/);
    const pf = await continueTo(stopped.body.threadId!);
    expect(pf.body.reason).toBe('exception');
    expect(pf.body.description).toMatch(/page fault/);
    expect((await top()).frame.line).toBe(lineOf(TRAPS, 'mov eax, [victim]                   ; faults'));
  });

  it('stops when dom0 writes a watched machine address (the block backend answering in the ring)', async () => {
    const cfg = join(SEEDS, 'blkfront', 'blkfront.cfg');
    const stopped = await start({ program: cfg, stopOnEntry: true });
    const t = stopped.body.threadId!;
    // The ring's rsp_prod (sring: req_prod, req_event, rsp_prod, ...), by machine address.
    const va = Number((await dc.evaluateRequest({ expression: 'ring + 8', context: 'watch' })).body.memoryReference);
    const pt = (await dc.evaluateRequest({ expression: `pt ${va}`, context: 'repl' })).body.result;
    const machine = /-> machine (0x[0-9a-f]+)/i.exec(pt)?.[1] ?? /machine address (0x[0-9a-f]+)/i.exec(pt)?.[1];
    expect(machine, pt).toBeDefined();
    const info = await dc.customRequest('dataBreakpointInfo', { name: `m:${machine}`, bytes: 4 });
    expect(info.body.dataId).toMatch(/^m:/);
    await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, accessType: 'write' }] });
    // First the guest's own SHARED_RING_INIT store, then dom0's response.
    const first = await continueTo(t);
    expect(first.body.reason).toBe('data breakpoint');
    expect(first.body.description).not.toMatch(/dom0/);
    const second = await continueTo(t);
    expect(second.body.reason).toBe('data breakpoint');
    expect(second.body.description).toMatch(/by Xen or dom0/);
    const rsp = await dc.evaluateRequest({ expression: '[ring + 8]', context: 'watch' });
    expect(Number(rsp.body.result.slice(0, 10))).toBeGreaterThan(0);
    const rings = await dc.customRequest('xen/rings', { domain: 1 });
    const name = rings.body.rings.find((r: { kind: string }) => r.kind === 'blkif').name;
    expect((await dc.evaluateRequest({ expression: `ring ${name}`, context: 'repl' })).body.result).toMatch(/rsp_prod/);
  });

  it('counts hypercalls per source line for code lenses (xen/hypercallSites)', async () => {
    const stopped = await start({ program: PAGETABLES });
    expect(stopped.body.description).toMatch(/ended/);
    const { body } = await dc.customRequest('xen/hypercallSites', {});
    const loop = lineOf(PAGETABLES, 'HYPERCALL_PAGE_CALL mmu_update');
    expect(body.sites).toContainEqual({ domain: 1, file: PAGETABLES, line: loop, count: 1024, byHypercall: { mmu_update: 1024 }, errors: 0 });
    expect(body.unlocated).toBe(0);
    expect((await dc.customRequest('xen/hypercallSites', { domain: 2 })).body.sites).toEqual([]);
  });

  it('runs without debugging (noDebug): no stop at entry, breakpoints or exception filters; terminated when every domain has ended', async () => {
    dc = new DebugClient('node', DAP, 'xenolab');
    await dc.start();
    await dc.initializeRequest();
    let stops = 0;
    dc.on('stopped', () => stops++);
    const output: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
    const terminated = dc.waitForEvent('terminated', 20_000);
    await Promise.all([
      dc.waitForEvent('initialized').then(async () => {
        await dc.setBreakpointsRequest({ source: { path: TRAPS }, breakpoints: [{ line: lineOf(TRAPS, 'HYPERCALL') }] });
        await dc.setExceptionBreakpointsRequest({ filters: ['trap', 'gp', 'shutdown'] });
        return dc.configurationDoneRequest();
      }),
      dc.launch({ program: TRAPS, stopOnEntry: true, noDebug: true }),
    ]);
    await terminated;
    expect(stops).toBe(0);
    expect(output.join('')).toContain(readFileSync(join(SEEDS, 'traps.console'), 'utf8').split('\n')[0]);
    expect(output.join('')).toMatch(/every domain has ended/);
  });

  it('stops on a domain crash and a shutdown by filter', async () => {
    const stopped = await start({ program: join(ROOT, 'debugger', 'test', 'fixtures', 'crash.xasm') }, () => dc.setExceptionBreakpointsRequest({ filters: ['crash'] }));
    expect(stopped.body.reason).toBe('exception');
    expect(stopped.body.description).toMatch(/dom1 \(crash\) crashed/);
    expect(stopped.body.text).toMatch(/general protection|#GP/);
    await dc.stop();
    const s2 = await start({ program: HELLO }, () => dc.setExceptionBreakpointsRequest({ filters: ['shutdown'] }));
    expect(s2.body.description).toMatch(/shut down/);
  });

  it('sends a memory event after a step that changes memory a memory view shows', async () => {
    const loop = lineOf(HELLO, 'mov [edi + xencons_interface.out + ecx], al');
    const stopped = await start({ program: HELLO }, () => dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: loop }] }));
    const t = stopped.body.threadId!;
    const target = (await dc.evaluateRequest({ expression: 'edi + xencons_interface.out + ecx', context: 'watch' })).body.memoryReference!;
    await dc.customRequest('readMemory', { memoryReference: target, count: 4 });
    const events: DebugProtocol.MemoryEvent[] = [];
    dc.on('memory', (e: DebugProtocol.MemoryEvent) => events.push(e));
    await next(t, 'instruction'); // the store into the console ring
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.body.memoryReference)).toContain(target);
    events.length = 0;
    await next(t, 'instruction'); // inc edx: memory unchanged
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([]);
  });

  it('steps back and reverse-continues to states equal to those recorded going forward', async () => {
    const loop = lineOf(HELLO, 'mov al, [ring_line + ebx]');
    const stopped = await start({ program: HELLO, snapshotSpacing: 2000 }, () => dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: loop }] }));
    const t = stopped.body.threadId!;
    const seen: Awaited<ReturnType<typeof look>>[] = [];
    // Registers, and the memory the loop writes (the console ring) and the stack.
    const look = async () => {
      const at = async (expression: string, count: number) => (await dc.customRequest('readMemory', { memoryReference: (await dc.evaluateRequest({ expression, context: 'watch' })).body.memoryReference!, count })).body.data;
      return { regs: await registers(), stack: await at('esp - 64', 64), ring: await at('edi', 64) };
    };
    seen.push(await look());
    for (let i = 0; i < 12; i++) {
      await next(t, 'instruction');
      seen.push(await look());
    }
    for (let i = seen.length - 2; i >= 0; i--) {
      const s = dc.waitForEvent('stopped');
      await dc.stepBackRequest({ threadId: t, granularity: 'instruction' });
      expect(((await s) as DebugProtocol.StoppedEvent).body.reason).toBe('step');
      expect(await look()).toEqual(seen[i]);
    }
    // Forward over three more loop iterations (breakpoint hits), then back to each.
    const hits: Record<string, string>[] = [await registers()];
    for (let i = 0; i < 3; i++) {
      await continueTo(t);
      hits.push(await registers());
    }
    for (let i = hits.length - 2; i >= 0; i--) {
      const s = dc.waitForEvent('stopped');
      await dc.reverseContinueRequest({ threadId: t });
      expect(((await s) as DebugProtocol.StoppedEvent).body.reason).toBe('breakpoint');
      expect(await registers()).toEqual(hits[i]);
    }
  });

  it('two domains with an event channel: stepping one leaves the other paused; threads and stacks are right', async () => {
    const ping = join(SEEDS, 'pingpong', 'ping.cfg'), pong = join(SEEDS, 'pingpong', 'pong.cfg');
    const stopped = await start({ program: [ping, pong], stopOnEntry: true });
    const threads = (await dc.threadsRequest()).body.threads;
    expect(threads.map((t) => t.name)).toEqual(['dom1 (ping) vcpu0', 'dom2 (pong) vcpu0']);
    const [one, two] = threads.map((t) => t.id);
    expect(stopped.body.threadId).toBe(one);
    const twoBefore = await registers(two);
    const oneBefore = await registers(one);
    for (let i = 0; i < 20; i++) await next(one, 'instruction');
    expect(await registers(two)).toEqual(twoBefore);
    expect((await registers(one)).eip).not.toBe(oneBefore.eip);
    // Each thread's stack is its own domain's program.
    expect((await top(two)).frame.source?.path).toMatch(/pingpong\.xasm$/);
    expect((await dc.customRequest('xen/eventChannels', { domain: 1 })).body).toBeTruthy();
  });

  it('pseudo-physical references, xen/translate, and xl pause/unpause/destroy as edits a step back undoes', async () => {
    const ping = join(SEEDS, 'pingpong', 'ping.cfg'), pong = join(SEEDS, 'pingpong', 'pong.cfg');
    const stopped = await start({ program: [ping, pong], stopOnEntry: true });
    const one = stopped.body.threadId!;
    const eip = (await top(one)).frame.instructionPointerReference!;
    // A virtual page, then the same frame by its pseudo-physical number and by its machine address.
    const virt = (await dc.customRequest('xen/translate', { memoryReference: `d1:${eip}`, count: 1 })).body;
    const page = virt.pages[0];
    expect(page.frame.owner).toBe(1);
    expect(page.machine).toBe(page.frame.mfn * 4096);
    expect(page.writable).toBe(true); // the builder maps the whole image writable
    const pfn = `p1:0x${(page.frame.pfn * 4096).toString(16)}`;
    const phys = (await dc.customRequest('xen/translate', { memoryReference: pfn, count: 8192 })).body;
    expect(phys.pages.map((p: { machine: number }) => p.machine)[0]).toBe(page.machine);
    expect(phys.pages).toHaveLength(2);
    const bytes = async (memoryReference: string) => (await dc.customRequest('readMemory', { memoryReference, count: 64 })).body.data;
    expect(await bytes(pfn)).toBe(await bytes(`m:0x${page.machine.toString(16)}`));
    expect((await dc.customRequest('xen/translate', { memoryReference: 'p1:0x7ffff000' })).body.pages[0]).toMatchObject({ machine: null, frame: null });
    await expect(dc.customRequest('xen/translate', { memoryReference: 'p9:0x0' })).rejects.toThrow(/no domain 9/);
    // Pause and unpause dom2; then destroy it: its thread goes, and a step back brings it back.
    const paused = async () => (await dc.customRequest('xen/domains', {})).body.domains.map((d: { id: number; paused: boolean }) => [d.id, d.paused]);
    await dc.customRequest('xen/pause', { domain: 2 });
    expect(await paused()).toEqual([[1, false], [2, true]]);
    await dc.customRequest('xen/unpause', { domain: 2 });
    expect(await paused()).toEqual([[1, false], [2, false]]);
    for (let i = 0; i < 3; i++) await next(one, 'instruction');
    const exited = dc.waitForEvent('thread');
    await dc.customRequest('xen/destroy', { domain: 2 });
    expect((await exited).body).toMatchObject({ reason: 'exited' });
    expect((await dc.threadsRequest()).body.threads.map((t) => t.name)).toEqual(['dom1 (ping) vcpu0']);
    expect(await paused()).toEqual([[1, false]]);
    await expect(dc.customRequest('xen/destroy', { domain: 2 })).rejects.toThrow(/no domain 2/);
    const back = dc.waitForEvent('stopped');
    await dc.stepBackRequest({ threadId: one, granularity: 'instruction' });
    await back;
    expect((await dc.threadsRequest()).body.threads.map((t) => t.name)).toEqual(['dom1 (ping) vcpu0', 'dom2 (pong) vcpu0']);
  });

  it('an instruction breakpoint, a hypercall error, setting a register, completions and console input', async () => {
    const file = join(ROOT, 'debugger', 'test', 'fixtures', 'enosys.xasm');
    const stopped = await start({ program: file, stopOnEntry: true }, () => dc.setExceptionBreakpointsRequest({ filters: ['hypercall-error'] }));
    const t = stopped.body.threadId!;
    // An instruction breakpoint two instructions in (mov esp: 5 bytes, mov eax: 5 bytes).
    const entry = Number((await top(t)).frame.instructionPointerReference);
    const ib = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: `0x${entry.toString(16)}`, offset: 10 }] });
    expect(ib.body.breakpoints[0].verified).toBe(true);
    expect((await continueTo(t)).body.reason).toBe('breakpoint');
    expect(Number((await top(t)).frame.instructionPointerReference)).toBe(entry + 10);
    // Set EAX (a value is an expression) to another number no hypercall has.
    const { frame } = await top(t);
    const regs = (await dc.scopesRequest({ frameId: frame.id })).body.scopes[0];
    expect((await registers()).eax).toBe('0x0000003f');
    const set = await dc.setVariableRequest({ variablesReference: regs.variablesReference, name: 'eax', value: '0x40 + 2' });
    expect(set.body.value).toBe('0x00000042');
    expect((await registers()).eax).toBe('0x00000042');
    const err = await continueTo(t);
    expect(err.body.reason).toBe('exception');
    expect(err.body.description).toMatch(/hypercall 66 returned -ENOSYS/);
    expect((await registers()).eax).toBe('0xffffffda'); // -38
    // Completions in the debug console: registers, labels, commands.
    const c = await dc.completionsRequest({ text: 'st', column: 3 });
    expect(c.body.targets.map((x) => x.label)).toContain('stack_top');
    expect((await dc.completionsRequest({ text: '[e', column: 3 })).body.targets.map((x) => x.label)).toContain('eax');
    await dc.customRequest('xen/consoleInput', { domain: 1, text: 'hi\n' });
    await expect(dc.customRequest('xen/consoleInput', { domain: 9, text: 'x' })).rejects.toThrow(/no domain 9/);
  });

  it('answers bad requests with errors and keeps going', async () => {
    const stopped = await start({ program: HELLO, stopOnEntry: true });
    const t = stopped.body.threadId!;
    await expect(dc.stackTraceRequest({ threadId: 999 })).rejects.toThrow(/unknown thread 999/);
    await expect(dc.customRequest('readMemory', { memoryReference: 'nowhere', count: 4 })).rejects.toThrow(/not a memory reference/);
    await expect(dc.evaluateRequest({ expression: 'eax +* 2', context: 'repl' })).rejects.toThrow(/column/);
    await expect(dc.evaluateRequest({ expression: 'no_such_label', context: 'watch' })).rejects.toThrow(/no_such_label/);
    await expect(dc.customRequest('writeMemory', { memoryReference: '0x1000', data: 'AAAA' })).rejects.toThrow(/not mapped/);
    await expect(dc.customRequest('xen/pageTables', { domain: 42 })).rejects.toThrow(/42/);
    await expect(dc.customRequest('xen/nonsense', {})).rejects.toThrow(/unknown request/);
    await expect(dc.setExceptionBreakpointsRequest({ filters: ['bogus'] })).rejects.toThrow(/unknown exception filter/);
    // Still answering.
    expect((await top(t)).frame.name).toBe('_start');
  });

  it('refuses a launch whose guest source has errors, with file:line:col', async () => {
    dc = new DebugClient('node', DAP, 'xenolab');
    await dc.start();
    await dc.initializeRequest();
    await expect(dc.launch({ program: join(ROOT, 'debugger', 'test', 'fixtures', 'broken.xasm') })).rejects.toThrow(/broken\.xasm:3:5: error: .*frobnicate/);
  });

  it('runs the pagetables seed to its end with output in the debug console', async () => {
    const output: string[] = [];
    dc = new DebugClient('node', DAP, 'xenolab');
    await dc.start();
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(`${e.body.category}:${e.body.output}`));
    await dc.initializeRequest();
    const stopped = dc.waitForEvent('stopped', 30_000);
    await Promise.all([dc.configurationSequence(), dc.launch({ program: PAGETABLES })]);
    expect(((await stopped) as DebugProtocol.StoppedEvent).body.description).toMatch(/ended/);
    expect(output.join('')).toContain(`dom1:${readFileSync(join(SEEDS, 'pagetables.console'), 'utf8').split('\n')[0]}`);
  });
});
