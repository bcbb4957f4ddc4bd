// The real language server in this process, over in-memory streams: a client that opens
// and changes documents, waits for the diagnostics of a version, and sends requests.

import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { createConnection, ProposedFeatures, type Diagnostic } from 'vscode-languageserver/node';
import { startServer } from '../src/server.js';

export interface Published {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}

export class InProcessClient {
  readonly conn: MessageConnection;
  private readonly published: Published[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly versions = new Map<string, number>();

  constructor(readText: (path: string) => string | null = readOrNull) {
    const toServer = new PassThrough(), toClient = new PassThrough();
    startServer(createConnection(ProposedFeatures.all, toServer, toClient), { readText });
    this.conn = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: Published) => {
      this.published.push(p);
      for (const w of this.waiters) w();
    });
    this.conn.listen();
  }

  async initialize(initializationOptions?: unknown): Promise<void> {
    await this.conn.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {}, initializationOptions });
    this.conn.sendNotification('initialized', {});
  }

  /** Opens a document and returns its diagnostics. */
  open(uri: string, text: string): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'xasm', version: 1, text } });
    return this.diagnostics(uri, 1);
  }

  /** Replaces a range (0-based lines and characters) and returns the new version's diagnostics. */
  change(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } } | null, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [range ? { range, text } : { text }] });
    return this.diagnostics(uri, version);
  }

  close(uri: string): void {
    this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** The diagnostics published for a version; rejects after `ms` without them (a hang). */
  diagnostics(uri: string, version: number, ms = 20_000): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const got = this.published.find((p) => p.uri === uri && p.version === version);
        if (!got) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(got.diagnostics);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no diagnostics for ${uri} version ${version} within ${ms} ms`));
      }, ms);
      if (!check()) this.waiters.add(check);
    });
  }

  dispose(): void {
    this.conn.dispose();
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
