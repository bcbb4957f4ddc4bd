// The real language server in this process, over in-memory streams: a client that opens
// and changes documents (by path or URI), waits for the diagnostics of a version, and
// sends requests.

import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { createConnection, ProposedFeatures, type Diagnostic, type Range } from 'vscode-languageserver/node';
import { pathToUri, startServer, type ServerFiles } from '../src/server.js';

export interface Published {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}

/** A path (absolute) or a URI, as a URI. */
const toUri = (at: string) => (at.startsWith('/') ? pathToUri(at) : at);

/** What an editor such as VS Code says it can take (a test of a plainer client passes its own `textDocument`); it also opens built-in files. */
export const EDITOR_CAPABILITIES = {
  textDocument: {
    completion: { completionItem: { snippetSupport: true } },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    signatureHelp: { signatureInformation: { parameterInformation: { labelOffsetSupport: true } } },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
  },
};

export class InProcessClient {
  readonly conn: MessageConnection;
  private readonly published: Published[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly versions = new Map<string, number>();

  constructor(files: ServerFiles = { readText: readOrNull }) {
    const toServer = new PassThrough(), toClient = new PassThrough();
    startServer(createConnection(ProposedFeatures.all, toServer, toClient), files);
    this.conn = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: Published) => {
      this.published.push(p);
      for (const w of this.waiters) w();
    });
  }

  /** initialize (with these parameters besides the usual) and initialized. Handlers the test adds go before. */
  async initialize(params: Record<string, unknown> = {}): Promise<void> {
    this.conn.listen();
    const { capabilities, initializationOptions, ...rest } = params as { capabilities?: object; initializationOptions?: object };
    await this.conn.sendRequest('initialize', {
      processId: null, rootUri: null, ...rest,
      capabilities: { ...EDITOR_CAPABILITIES, ...capabilities },
      initializationOptions: { builtinFiles: true, ...initializationOptions },
    });
    this.conn.sendNotification('initialized', {});
  }

  /** Opens a document and returns its diagnostics. */
  open(at: string, text: string): Promise<Diagnostic[]> {
    const uri = toUri(at);
    this.versions.set(uri, 1);
    this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'xasm', version: 1, text } });
    return this.diagnostics(uri, 1);
  }

  /** Replaces a range (the whole text when null) and returns the new version's diagnostics. */
  change(at: string, range: Range | null, text: string): Promise<Diagnostic[]> {
    const uri = toUri(at);
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [range ? { range, text } : { text }] });
    return this.diagnostics(uri, version);
  }

  replace(at: string, text: string): Promise<Diagnostic[]> {
    return this.change(at, null, text);
  }

  /** The versions of a document whose diagnostics have come, in order. */
  publishedVersions(at: string): (number | undefined)[] {
    const uri = toUri(at);
    return this.published.filter((p) => p.uri === uri).map((p) => p.version);
  }

  /** How many publishDiagnostics notifications have come. */
  publishedCount(): number {
    return this.published.length;
  }

  close(at: string): void {
    this.conn.sendNotification('textDocument/didClose', { textDocument: { uri: toUri(at) } });
  }

  /** A request about a document. */
  request<T>(method: string, at: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.conn.sendRequest(method, { textDocument: { uri: toUri(at) }, ...params }) as Promise<T>;
  }

  /** The diagnostics published for a version; rejects after `ms` without them (a hang). */
  diagnostics(at: string, version: number, ms = 20_000): Promise<Diagnostic[]> {
    const uri = toUri(at);
    return this.until(() => this.published.find((p) => p.uri === uri && p.version === version)?.diagnostics, ms, () => `no diagnostics for ${uri} version ${version} within ${ms} ms`);
  }

  /** The newest diagnostics of a document once they pass a test (settings change them without a new version). */
  eventually(at: string, test: (d: Diagnostic[]) => boolean, ms = 20_000): Promise<Diagnostic[]> {
    const uri = toUri(at);
    const newest = () => this.published.filter((p) => p.uri === uri).pop()?.diagnostics;
    return this.until(() => {
      const d = newest();
      return d && test(d) ? d : undefined;
    }, ms, () => `diagnostics never passed: ${JSON.stringify(newest()?.map((d) => d.code))}`);
  }

  private until<T>(got: () => T | undefined, ms: number, why: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = got();
        if (value === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(why()));
      }, ms);
      this.waiters.add(check);
      check();
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
