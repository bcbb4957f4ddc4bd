// The language server's answers to requests a client gets wrong or takes back, written as
// raw JSON-RPC frames so that several reach it in one read: params that lack what a
// request needs, a request cancelled before it ran, requests after shutdown.

import { PassThrough } from 'node:stream';
import { StreamMessageReader } from 'vscode-jsonrpc/node';
import { createConnection, ErrorCodes, LSPErrorCodes, ProposedFeatures } from 'vscode-languageserver/node';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';

interface Response {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string };
}

function rawServer() {
  const toServer = new PassThrough(), toClient = new PassThrough();
  startServer(createConnection(ProposedFeatures.all, toServer, toClient), { readText: () => null });
  const got: Response[] = [];
  new StreamMessageReader(toClient).listen((m) => got.push(m as Response));
  const frame = (m: object) => {
    const json = JSON.stringify({ jsonrpc: '2.0', ...m });
    return `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
  };
  return {
    /** All the messages in one write: the server reads them before it handles the first. */
    send: (...messages: object[]) => toServer.write(messages.map(frame).join('')),
    async response(id: number): Promise<Response> {
      for (let i = 0; i < 500; i++) {
        const r = got.find((m) => m.id === id);
        if (r) return r;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no response to request ${id}`);
    },
  };
}

const DOC = { uri: 'file:///t/guest.xasm' };
const hover = (id: number, params: object) => ({ id, method: 'textDocument/hover', params });

async function started() {
  const s = rawServer();
  s.send({ id: 0, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }, { method: 'initialized', params: {} },
    { method: 'textDocument/didOpen', params: { textDocument: { ...DOC, languageId: 'xasm', version: 1, text: 'bits 32\n_start:\n    cli\n    jmp _start\n' } } });
  expect((await s.response(0)).result).toHaveProperty('capabilities');
  return s;
}

describe('requests the client gets wrong or takes back', () => {
  it('refuses params that lack what the request reads with InvalidParams, naming the field', async () => {
    const s = await started();
    s.send(hover(1, { textDocument: DOC }), hover(2, { textDocument: 'guest.xasm', position: { line: 2, character: 5 } }),
      hover(3, { textDocument: DOC, position: { line: -1, character: 0 } }),
      { id: 4, method: 'textDocument/rename', params: { textDocument: DOC, position: { line: 1, character: 1 } } },
      { id: 5, method: 'textDocument/codeAction', params: { textDocument: DOC, range: { start: { line: 2, character: 4 } } } },
      { id: 6, method: 'workspace/symbol', params: {} });
    const expected: [number, string][] = [[1, 'position'], [2, 'textDocument'], [3, 'position'], [4, 'newName'], [5, 'range'], [6, 'query']];
    for (const [id, field] of expected) {
      const r = await s.response(id);
      expect(r.error?.code, `request ${id}`).toBe(ErrorCodes.InvalidParams);
      expect(r.error?.message).toMatch(new RegExp(`^params\\.${field} must be `));
    }
    // the same requests, well formed, are answered
    s.send(hover(7, { textDocument: DOC, position: { line: 2, character: 5 } }));
    expect(JSON.stringify((await s.response(7)).result)).toContain('cli');
  });

  it('answers a request cancelled before it ran with RequestCancelled, and the others as usual', async () => {
    const s = await started();
    const at = { textDocument: DOC, position: { line: 2, character: 5 } };
    s.send(hover(1, at), hover(2, at), { method: '$/cancelRequest', params: { id: 1 } });
    expect((await s.response(1)).error?.code).toBe(LSPErrorCodes.RequestCancelled);
    const kept = await s.response(2);
    expect(kept.error).toBeUndefined();
    expect(JSON.stringify(kept.result)).toContain('cli');
  });

  it('refuses requests after shutdown with InvalidRequest', async () => {
    const s = await started();
    s.send({ id: 1, method: 'shutdown' }, hover(2, { textDocument: DOC, position: { line: 2, character: 5 } }),
      { id: 3, method: 'textDocument/documentSymbol', params: { textDocument: DOC } });
    expect(await s.response(1)).toMatchObject({ result: null });
    for (const id of [2, 3]) {
      const r = await s.response(id);
      expect(r.error?.code, `request ${id}`).toBe(ErrorCodes.InvalidRequest);
      expect(r.error?.message).toContain('shut down');
    }
  });
});

describe('URIs a client may send', () => {
  it('opens a document whose URI has a malformed percent-escape, and keeps serving (it threw and ended the server)', async () => {
    const s = await started();
    const odd = { uri: 'file:///t/100%.xasm' };
    s.send({ method: 'textDocument/didOpen', params: { textDocument: { ...odd, languageId: 'xasm', version: 1, text: 'bits 32\n_start:\n    cli\n' } } },
      hover(1, { textDocument: odd, position: { line: 2, character: 5 } }), hover(2, { textDocument: DOC, position: { line: 2, character: 5 } }));
    expect(JSON.stringify((await s.response(1)).result)).toContain('cli');
    expect(JSON.stringify((await s.response(2)).result)).toContain('cli');
  });
});
