// DAP over the debug adapter's web worker (dist/xenolab-dap-worker.js): requests matched to
// their responses by sequence number, events to their listeners. The worker takes the
// workspace's files first (by absolute path), as debugger/src/worker.ts says.

import type { DebugProtocol } from '@vscode/debugprotocol';

type Pending = { resolve(body: unknown): void; reject(e: Error): void };

export class DapClient {
  private seq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, ((body: unknown) => void)[]>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<DebugProtocol.ProtocolMessage>) => this.receive(e.data);
  }

  /** Hands the adapter the files a launch may read: texts, and binary files (disk images) in base64. */
  sendFiles(files: Record<string, string>, binary: Record<string, string>): void {
    this.worker.postMessage({ files, binary });
  }

  request<B = unknown>(command: string, args: object = {}): Promise<B> {
    const seq = this.seq++;
    return new Promise<B>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (b: unknown) => void, reject });
      this.worker.postMessage({ seq, type: 'request', command, arguments: args });
    });
  }

  on<B = unknown>(event: string, f: (body: B) => void): void {
    const list = this.listeners.get(event) ?? [];
    list.push(f as (b: unknown) => void);
    this.listeners.set(event, list);
  }

  dispose(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('The debug session ended.'));
    this.pending.clear();
  }

  private receive(m: DebugProtocol.ProtocolMessage): void {
    if (m.type === 'response') {
      const r = m as DebugProtocol.Response;
      const p = this.pending.get(r.request_seq);
      this.pending.delete(r.request_seq);
      if (r.success) p?.resolve(r.body);
      else p?.reject(new Error(r.message ?? `${r.command} failed`));
    } else if (m.type === 'event') {
      const e = m as DebugProtocol.Event;
      for (const f of this.listeners.get(e.event) ?? []) f(e.body);
    }
  }
}
