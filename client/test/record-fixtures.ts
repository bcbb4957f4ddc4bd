// Records the side panels' fixtures (client/test/fixtures/*.json) from the real debug
// adapter, in-process: each seed launched, stopped at two breakpoints, and at each stop
// the custom requests the panels make, answered by the adapter as VS Code would see them.
// Two stops per seed, so the "what changed since the previous stop" models have real pairs.
// Run by `node scripts/record-view-fixtures.mjs`; the machine is deterministic, so running
// it again rewrites the same files.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFiles } from '../../cli/src/nodeProvider.js';
import { XenDebugSession } from '../../debugger/src/session.js';
import { XenRequest, type XenRequestName, type XenRequests } from '../../protocol/src/index.js';
import { FIXTURES_DIR, type Fixtures, type RecordedMemory } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SEEDS = join(ROOT, 'seeds');

/** A DAP client talking to the session object directly (no process, no stream). */
class InProcessClient {
  private readonly session = new XenDebugSession(nodeFiles);
  private seq = 1;
  private readonly replies = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly waiting: { event: string; resolve: (e: DebugProtocol.Event) => void }[] = [];

  constructor() {
    this.session.onDidSendMessage((m) => {
      const msg = m as DebugProtocol.ProtocolMessage;
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        this.replies.get(r.request_seq)?.(r);
        this.replies.delete(r.request_seq);
      } else if (msg.type === 'event') {
        const e = msg as DebugProtocol.Event;
        const i = this.waiting.findIndex((w) => w.event === e.event);
        if (i >= 0) this.waiting.splice(i, 1)[0].resolve(e);
      }
    });
  }

  request(command: string, args: unknown = {}): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.replies.set(seq, (r) => (r.success ? resolve(r) : reject(new Error(`${command}: ${r.message}`))));
      this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  async xen<K extends XenRequestName>(command: K, args: XenRequests[K]['args']): Promise<XenRequests[K]['body']> {
    return (await this.request(command, args)).body as XenRequests[K]['body'];
  }

  event(event: string): Promise<DebugProtocol.Event> {
    return new Promise((resolve) => this.waiting.push({ event, resolve }));
  }

  /** Launches `program` with a breakpoint at each of `lines` of `file` (texts; the code line from there); resolves at the first stop. */
  async launch(program: string | string[], file: string, lines: string[]): Promise<void> {
    await this.request('initialize', { adapterID: 'xenolab', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = this.event('initialized');
    const stopped = this.event('stopped');
    const launched = this.request('launch', { program });
    await initialized;
    const text = readFileSync(file, 'utf8').split('\n');
    // The first line with code at or after the first line containing the text (labels and comments have none).
    const hasCode = (t: string) => !/^\s*(;.*)?$/.test(t) && !/^[\w.]+:\s*(;.*)?$/.test(t);
    const breakpoints = lines.map((l) => {
      let i = text.findIndex((t) => t.includes(l));
      if (i < 0) throw new Error(`'${l}' is not in ${file}`);
      while (i < text.length && !hasCode(text[i])) i++;
      return { line: i + 1 };
    });
    await this.request('setBreakpoints', { source: { path: file }, breakpoints });
    await this.request('configurationDone');
    await launched;
    await stopped;
  }

  async continue(): Promise<void> {
    const stopped = this.event('stopped');
    await this.request('continue', { threadId: 1 });
    await stopped;
  }

  async memory(expression: string, count: number): Promise<RecordedMemory> {
    const address = (await this.request('evaluate', { expression, context: 'watch' })).body.memoryReference as string;
    const reference = `d1:${address}`;
    const read = (await this.request('readMemory', { memoryReference: reference, count })).body;
    const translate = await this.xen(XenRequest.translate, { memoryReference: reference, count });
    return { reference, read, translate };
  }

  async stop(): Promise<void> {
    await this.request('disconnect', {});
  }
}

const write = <K extends keyof Fixtures>(name: K, stops: Fixtures[K]) => writeFileSync(join(FIXTURES_DIR, `${name}.json`), JSON.stringify(stops) + '\n');

/** blkfront: a block request just published (pending in the ring), then its answer read. */
async function blkfront(): Promise<void> {
  const c = new InProcessClient();
  const file = join(SEEDS, 'blkfront', 'blkfront.xasm');
  await c.launch(join(SEEDS, 'blkfront', 'blkfront.cfg'), file, ['    mov ecx, ebx', '    mov edx, [rsp_cons]']);
  const stops: Fixtures['blkfront'] = [];
  for (let i = 0; i < 2; i++) {
    if (i > 0) await c.continue();
    stops.push({
      domains: await c.xen(XenRequest.domains, {}),
      rings: await c.xen(XenRequest.rings, { domain: 1 }),
      grantTables: await c.xen(XenRequest.grantTables, { domain: 1 }),
      eventChannels: await c.xen(XenRequest.eventChannels, { domain: 1 }),
      hypercallLog: await c.xen(XenRequest.hypercallLog, {}),
    });
  }
  write('blkfront', stops);
  await c.stop();
}

/** pingpong: two domains and their interdomain channel, at two sends of the token. */
async function pingpong(): Promise<void> {
  const c = new InProcessClient();
  const file = join(SEEDS, 'pingpong', 'pingpong.xasm');
  await c.launch([join(SEEDS, 'pingpong', 'ping.cfg'), join(SEEDS, 'pingpong', 'pong.cfg')], file, ['send_token:']);
  const stops: Fixtures['pingpong'] = [];
  for (let i = 0; i < 2; i++) {
    if (i > 0) await c.continue();
    stops.push({
      domains: await c.xen(XenRequest.domains, {}),
      eventChannels: [await c.xen(XenRequest.eventChannels, { domain: 1 }), await c.xen(XenRequest.eventChannels, { domain: 2 })],
      grantTables: [await c.xen(XenRequest.grantTables, { domain: 1 }), await c.xen(XenRequest.grantTables, { domain: 2 })],
      hypercallLog: await c.xen(XenRequest.hypercallLog, {}),
    });
  }
  write('pingpong', stops);
  await c.stop();
}

/** pagetables: after the 1024 single mmu_update calls, then after the one batch; the page directory, the new table, the request array. */
async function pagetables(): Promise<void> {
  const c = new InProcessClient();
  const file = join(SEEDS, 'pagetables.xasm');
  await c.launch(file, file, ['; 6. Now batched', 'shutdown:']);
  const stops: Fixtures['pagetables'] = [];
  for (let i = 0; i < 2; i++) {
    if (i > 0) await c.continue();
    const directory = await c.xen(XenRequest.pageTables, { domain: 1, slots: [] });
    // The guest's own slots: the kernel's and the one the seed fills (the last guest slot it uses).
    const guestSlots = directory.entries.filter((e) => !e.xen).map((e) => e.index);
    stops.push({
      domains: await c.xen(XenRequest.domains, {}),
      pageTables: directory,
      expanded: await c.xen(XenRequest.pageTables, { domain: 1, slots: guestSlots, maxEntries: 8 }),
      frameMap: await c.xen(XenRequest.frameMap, {}),
      memory: await c.memory('requests', 256),
    });
  }
  write('pagetables', stops);
  await c.stop();
}

await blkfront();
await pingpong();
await pagetables();
