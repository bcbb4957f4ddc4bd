// The adapter's browser build (dist/xenolab-dap-worker.js) runs where there is no Node:
// in a bare JavaScript context with only what a web worker has (postMessage, timers,
// atob/btoa, TextEncoder, URL), it launches a guest from files the page sent, stops on
// entry, steps and steps back.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')]);
});

type Message = { type: string; command?: string; event?: string; success?: boolean; body?: Record<string, unknown>; request_seq?: number; message?: string };

describe('debug adapter in a web worker', () => {
  it('has no Node dependencies, and debugs a guest the page sent', async () => {
    const out: Message[] = [];
    const waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
    const worker = {
      postMessage: (m: Message) => {
        out.push(m);
        for (const w of [...waiters]) if (w.test(m)) waiters.splice(waiters.indexOf(w), 1), w.resolve(m);
      },
      onmessage: null as ((e: { data: unknown }) => void) | null,
      setTimeout, clearTimeout, atob, btoa, TextEncoder, TextDecoder, URL, performance,
    };
    const context = createContext({ ...worker, self: undefined });
    runInContext('self = globalThis;', context);
    runInContext(readFileSync(join(ROOT, 'dist', 'xenolab-dap-worker.js'), 'utf8'), context, { filename: 'xenolab-dap-worker.js' });
    const g = context as unknown as typeof worker;
    // The context's own postMessage is what the bundle calls.
    g.postMessage = worker.postMessage;
    let seq = 1;
    const wait = (test: (m: Message) => boolean) => new Promise<Message>((resolve) => {
      const found = out.find(test);
      if (found) resolve(found);
      else waiters.push({ test, resolve });
    });
    const request = async (command: string, args: unknown = {}) => {
      const s = seq++;
      g.onmessage!({ data: { seq: s, type: 'request', command, arguments: args } });
      const r = await wait((m) => m.type === 'response' && m.request_seq === s);
      if (!r.success) throw new Error(r.message);
      return r;
    };
    g.onmessage!({ data: { files: { '/guest/hello.xasm': readFileSync(join(ROOT, 'seeds', 'hello.xasm'), 'utf8') } } });
    await request('initialize', { adapterID: 'xenolab', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    await request('launch', { program: '/guest/hello.xasm', stopOnEntry: true });
    await request('configurationDone');
    const entry = await wait((m) => m.event === 'stopped');
    expect(entry.body!.reason).toBe('entry');
    const eip = async () => {
      const frames = (await request('stackTrace', { threadId: entry.body!.threadId })).body!.stackFrames as { instructionPointerReference: string; line: number }[];
      return frames[0];
    };
    const first = await eip();
    expect(first.line).toBe(readFileSync(join(ROOT, 'seeds', 'hello.xasm'), 'utf8').split('\n').indexOf('    cld') + 1);
    out.length = 0;
    await request('next', { threadId: entry.body!.threadId, granularity: 'instruction' });
    await wait((m) => m.event === 'stopped');
    expect((await eip()).instructionPointerReference).not.toBe(first.instructionPointerReference);
    out.length = 0;
    await request('stepBack', { threadId: entry.body!.threadId, granularity: 'instruction' });
    await wait((m) => m.event === 'stopped');
    expect((await eip()).instructionPointerReference).toBe(first.instructionPointerReference);
  });
});
