// Benchmark: the language server on a generated 10,000-line guest, over LSP (in-process,
// in-memory streams): time from didChange to publishDiagnostics, completion and hover
// latency, full-document and 100-line-range semantic tokens, and the heap the server holds.
// Edits are timed after a first round of each kind (warm-up, printed on its own).
// Targets: diagnostics p95 <= 50 ms, completion p95 <= 16 ms, semantic tokens <= 50 ms, heap <= 50 MB.
// Then, for context, the diagnostics latency on 10k-line guests of other shapes.

import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from '../../server/src/server.js';

/** A guest of about `lines` lines: functions with loops, hypercalls, data and macros; it saves start_info, as kernels do. */
function guest(lines: number): string {
  const out = ['bits 32', '%include "xen.inc"', 'org 0xc0000000', 'section .text', 'global _start', '_start:', '    mov esp, stack_top', '    mov [start_info_ptr], esi'];
  let n = 0;
  while (out.length < lines - 40) {
    out.push(`f${n}:`, '    push ebp', '    mov ebp, esp', `    mov ecx, ${n % 17 + 1}`, `.loop${n}:`, `    mov eax, [table + ecx * 4]`, '    add eax, ebx',
      `    mov [table + ecx * 4], eax`, `    dec ecx`, `    jnz .loop${n}`, `    mov ebx, CONSOLEIO_write`, `    mov ecx, 4`, `    mov edx, table`, '    HYPERCALL console_io', '    pop ebp', '    ret', '');
    n++;
  }
  out.push('section .data', 'table: times 64 dd 0', 'start_info_ptr: dd 0', 'section .bss', '    resb 8192', 'stack_top:');
  return out.join('\n') + '\n';
}

/** 10k-line guests of other shapes than `guest`'s: every line a macro call, and many small branching functions. */
const SHAPES: [string, string][] = [
  ['every line a macro call', ['bits 32', '%include "xen.inc"', 'org 0xc0000000', 'section .text', '_start:', '%macro PUTC 1', '    mov ebx, %1', '    call putc', '%endmacro',
    'putc: ret', ...Array.from({ length: 9990 }, (_, i) => `    PUTC ${i % 256}`)].join('\n') + '\n'],
  ['1666 small branching functions', ['bits 32', '%include "xen.inc"', 'org 0xc0000000', 'section .text', '_start:',
    ...Array.from({ length: 1666 }, (_, i) => [`f${i}:`, `    cmp eax, ${i}`, '    je .a', '    jmp .b', `.a: call f${(i + 1) % 1666}`, '.b: ret']).flat()].join('\n') + '\n'],
];

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export async function run(): Promise<void> {
  const text = guest(10_000);
  // A real collection before each heap reading: garbage is not what the server holds.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const toServer = new PassThrough(), toClient = new PassThrough();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const connection = createConnection(ProposedFeatures.all, toServer, toClient);
  startServer(connection, { readText: () => null });
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  // diagnostics by document and version
  const published = new Map<string, () => void>();
  const seen = new Set<string>();
  client.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number }) => {
    if (p.version === undefined) return;
    seen.add(`${p.uri} ${p.version}`);
    published.get(`${p.uri} ${p.version}`)?.();
  });
  client.listen();
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
  client.sendNotification('initialized', {});
  const uri = 'file:///bench/guest.xasm';
  const until = (version: number, of = uri) => new Promise<void>((resolve) => (seen.has(`${of} ${version}`) ? resolve() : published.set(`${of} ${version}`, resolve)));
  let version = 1;
  const t0 = performance.now();
  client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'xasm', version, text } });
  await until(version);
  const firstMs = performance.now() - t0;
  const lines = text.split('\n');
  // Edits in the middle of the file, as typing makes them, each undone by the next: a
  // constant changed in place (sizes stay), an instruction line inserted (everything
  // after it moves), a label reference broken into an undefined name (an error), and a
  // trailing space.
  const change = (range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string) => {
    client.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [{ range, text }] });
    return until(version);
  };
  const at = (line: number, character: number) => ({ line, character });
  const diag: number[] = [];
  // The first edits of each kind, not counted (as the asm bench's warm-up rounds): the JIT
  // compiling the edit paths, once in a long-running server's life. Printed on their own.
  const warmup: number[] = [];
  for (let i = -2; i < 24; i++) {
    const base = 5000 + (i % 6) * 17;
    const fn = lines.findIndex((l, k) => k >= base && /^f\d+:$/.test(l));
    const count = fn + 3, loopJump = fn + 9; // `    mov ecx, N` and `    jnz .loopN`
    const edits: [ReturnType<typeof at>, ReturnType<typeof at>, string][] = [
      [at(count, 13), at(count, lines[count].length), '99'],
      [at(count, 13), at(count, 15), lines[count].slice(13)],
      [at(fn + 1, 0), at(fn + 1, 0), '    inc eax\n'],
      [at(fn + 1, 0), at(fn + 2, 0), ''],
      [at(loopJump, lines[loopJump].length), at(loopJump, lines[loopJump].length), 'x'],
      [at(loopJump, lines[loopJump].length), at(loopJump, lines[loopJump].length + 1), ''],
      [at(count, lines[count].length), at(count, lines[count].length), ' '],
      [at(count, lines[count].length), at(count, lines[count].length + 1), ''],
    ];
    for (const [start, end, text] of i % 2 ? edits.slice(4) : edits.slice(0, 4)) {
      const t = performance.now();
      await change({ start, end }, text);
      (i < 0 ? warmup : diag).push(performance.now() - t);
    }
  }
  const timed = async (n: number, f: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await f();
      xs.push(performance.now() - t);
    }
    return xs;
  };
  const load = lines.findIndex((l, i) => i > 5000 && l.startsWith('    mov eax, ['));
  const completion = await timed(50, () => client.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: load, character: 13 } }));
  const hover = await timed(50, () => client.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: load, character: 16 } }));
  const tokens = await timed(10, () => client.sendRequest('textDocument/semanticTokens/full', { textDocument: { uri } }));
  // the 100 lines an editor window shows, as VS Code asks for them before the whole document
  const rangeTokens = await timed(50, () => client.sendRequest('textDocument/semanticTokens/range', { textDocument: { uri }, range: { start: { line: load - 50, character: 0 }, end: { line: load + 50, character: 0 } } }));
  gc();
  const heap = process.memoryUsage().heapUsed - heapBefore;
  console.log(`Language server on a ${lines.length}-line guest (in-process, LSP over in-memory streams), node ${process.version}`);
  console.log(`  first diagnostics after didOpen: ${firstMs.toFixed(1)} ms`);
  console.log(`  didChange → publishDiagnostics (${diag.length} edits): p50 ${pct(diag, 50).toFixed(1)} ms, p95 ${pct(diag, 95).toFixed(1)} ms   target p95 <= 50 ms: ${pct(diag, 95) <= 50 ? 'met' : 'NOT met'}`);
  console.log(`    (the ${warmup.length} warm-up edits before them: ${warmup.map((x) => x.toFixed(0)).join(', ')} ms)`);
  console.log(`  completion: p50 ${pct(completion, 50).toFixed(1)} ms, p95 ${pct(completion, 95).toFixed(1)} ms   target p95 <= 16 ms: ${pct(completion, 95) <= 16 ? 'met' : 'NOT met'}`);
  console.log(`  hover: p50 ${pct(hover, 50).toFixed(1)} ms, p95 ${pct(hover, 95).toFixed(1)} ms`);
  console.log(`  semantic tokens (full document): p50 ${pct(tokens, 50).toFixed(1)} ms   target <= 50 ms: ${pct(tokens, 50) <= 50 ? 'met' : 'NOT met'}`);
  console.log(`  semantic tokens (100-line range): p50 ${pct(rangeTokens, 50).toFixed(1)} ms, p95 ${pct(rangeTokens, 95).toFixed(1)} ms   anchor <= 8 ms: ${pct(rangeTokens, 95) <= 8 ? 'met' : 'NOT met'}`);
  console.log(`  heap held by the server and its document: ${(heap / 1048576).toFixed(1)} MB   target <= 50 MB: ${heap <= 50 * 1048576 ? 'met' : 'NOT met'}`);
  console.log('  other 10k-line guests (context), didChange → publishDiagnostics:');
  for (const [name, shape] of SHAPES) {
    const shapeUri = `file:///bench/${name.replace(/\W+/g, '-')}.xasm`;
    const shapeLines = shape.split('\n');
    let v = 1;
    client.sendNotification('textDocument/didOpen', { textDocument: { uri: shapeUri, languageId: 'xasm', version: v, text: shape } });
    await until(v, shapeUri);
    // a trailing space and an inserted line in the middle, each undone by the next
    const times: number[] = [];
    for (let i = -1; i < 12; i++) {
      const line = (shapeLines.length >> 1) + i * 7;
      const end = shapeLines[line].length;
      for (const [from, to, text] of [[at(line, end), at(line, end), ' '], [at(line, end), at(line, end + 1), ''], [at(line, 0), at(line, 0), '    inc eax\n'], [at(line, 0), at(line + 1, 0), '']] as const) {
        const t = performance.now();
        client.sendNotification('textDocument/didChange', { textDocument: { uri: shapeUri, version: ++v }, contentChanges: [{ range: { start: from, end: to }, text }] });
        await until(v, shapeUri);
        if (i >= 0) times.push(performance.now() - t);
      }
    }
    client.sendNotification('textDocument/didClose', { textDocument: { uri: shapeUri } });
    console.log(`    ${name} (${shapeLines.length} lines, ${times.length} edits): p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms`);
  }
  client.dispose();
}
