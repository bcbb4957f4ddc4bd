// Benchmark: the debug adapter as VS Code drives it, over a real adapter process:
//  - step latency: `next` → `stopped` → `stackTrace` → `scopes` → `variables`, p50/p95,
//    with 1 and with 128 running domains (targets: p95 <= 10 ms; 128/1 ratio <= 1.2),
//    the two adapters measured in alternating blocks so that host drift falls on both;
//  - `stepBack` after 100 M executed instructions (target <= 50 ms), and the memory the
//    snapshots hold per million instructions (a guest that writes memory as it runs).

import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernel } from '../../hypervisor/test/guest.js';

const ROOT = process.cwd();
const DAP = join(ROOT, 'dist', 'xenolab-dap.mjs');
/** A guest based 3 MiB into its 4 MiB slot fits in 1 MiB of memory. */
const SMALL_BASE = 0xc0300000;

/** A busy kernel that writes memory as it goes: a counter per round into a 16 KiB buffer. */
const BUSY = kernel(`
    xor ecx, ecx
.loop:
    mov eax, ecx
    and eax, 4095
    mov [buf + eax * 4], ecx
    add ecx, 1
    jmp .loop`, 'buf: times 4096 dd 0', SMALL_BASE);

async function adapter(programs: string[], extra: Record<string, unknown> = {}): Promise<{ dc: DebugClient; thread: number }> {
  const dc = new DebugClient('node', DAP, 'xenolab');
  await dc.start();
  await dc.initializeRequest();
  const stopped = dc.waitForEvent('stopped', 600_000);
  await Promise.all([dc.configurationSequence(), dc.launch({ program: programs, memoryKiB: 1024, stopOnEntry: true, ...extra })]);
  const thread = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
  return { dc, thread };
}

/** Lets every domain run for a while (they are all busy), then stops them. */
async function warm(dc: DebugClient, thread: number, ms: number): Promise<void> {
  const stopped = dc.waitForEvent('stopped', 60_000);
  await dc.continueRequest({ threadId: thread });
  await new Promise((r) => setTimeout(r, ms));
  await dc.pauseRequest({ threadId: thread });
  await stopped;
}

/** One round trip as VS Code makes it after F10. */
async function step(dc: DebugClient, thread: number): Promise<number> {
  const t0 = performance.now();
  const stopped = dc.waitForEvent('stopped', 60_000);
  await dc.nextRequest({ threadId: thread });
  await stopped;
  const frames = (await dc.stackTraceRequest({ threadId: thread, startFrame: 0, levels: 20 })).body.stackFrames;
  const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
  await dc.variablesRequest({ variablesReference: scopes[0].variablesReference });
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export async function run(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')]);
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-dap-bench-'));
  const files = Array.from({ length: 128 }, (_, i) => {
    const f = join(dir, `d${String(i + 1).padStart(3, '0')}.xasm`);
    writeFileSync(f, BUSY);
    return f;
  });
  console.log(`Debug adapter over DAP (a real adapter process), node ${process.version}`);

  const one = await adapter(files.slice(0, 1));
  const many = await adapter(files);
  await warm(one.dc, one.thread, 300);
  await warm(many.dc, many.thread, 1500);
  for (let i = 0; i < 20; i++) await step(one.dc, one.thread), await step(many.dc, many.thread); // warm the JIT
  const t1: number[] = [], t128: number[] = [];
  for (let block = 0; block < 10; block++) {
    for (let i = 0; i < 30; i++) t1.push(await step(one.dc, one.thread));
    for (let i = 0; i < 30; i++) t128.push(await step(many.dc, many.thread));
  }
  const p95one = pct(t1, 95), p95many = pct(t128, 95);
  console.log(`  next → stopped → stackTrace → scopes → variables, ${t1.length} round trips each:`);
  console.log(`    1 domain:     p50 ${pct(t1, 50).toFixed(2)} ms, p95 ${p95one.toFixed(2)} ms`);
  console.log(`    128 domains:  p50 ${pct(t128, 50).toFixed(2)} ms, p95 ${p95many.toFixed(2)} ms   target p95 <= 10 ms: ${Math.max(p95one, p95many) <= 10 ? 'met' : 'NOT met'}`);
  console.log(`    128/1 ratio:  p50 ${(pct(t128, 50) / pct(t1, 50)).toFixed(2)}, p95 ${(p95many / p95one).toFixed(2)}   target <= 1.2: ${p95many / p95one <= 1.2 ? 'met' : 'NOT met'}`);
  await one.dc.stop();
  await many.dc.stop();

  // Reverse: 100 M instructions forward, then back one instruction at a time.
  const N = 100_000_000;
  const back = await adapter(files.slice(0, 1), { maxCycles: N });
  const ran = back.dc.waitForEvent('stopped', 600_000);
  const tRun = performance.now();
  await back.dc.continueRequest({ threadId: back.thread });
  await ran;
  const runMs = performance.now() - tRun;
  const snaps = (await back.dc.evaluateRequest({ expression: 'snapshots', context: 'repl' })).body.result;
  const tb: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    const s = back.dc.waitForEvent('stopped', 60_000);
    await back.dc.stepBackRequest({ threadId: back.thread, granularity: 'instruction' });
    await s;
    tb.push(performance.now() - t0);
  }
  await back.dc.stop();
  const m = /(\d+) snapshots, ([\d.]+) MiB \(([\d.]+) MiB/.exec(snaps);
  const perM = m ? ((Number(m[2]) - Number(m[3])) * 1024) / (N / 1e6) : NaN;
  console.log(`  ${N / 1e6} M instructions run in ${(runMs / 1000).toFixed(2)} s under the debugger; ${snaps}`);
  console.log(`    snapshot memory: ${perM.toFixed(1)} KiB per million instructions (besides the one copy of machine memory)`);
  console.log(`    stepBack after ${N / 1e6} M: p50 ${pct(tb, 50).toFixed(1)} ms, p95 ${pct(tb, 95).toFixed(1)} ms   target <= 50 ms: ${pct(tb, 95) <= 50 ? 'met' : 'NOT met'}`);
}
