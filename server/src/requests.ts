// What every request passes before its handler runs. Before `initialize` it is refused
// with ServerNotInitialized, after `shutdown` with InvalidRequest, as the LSP
// specification asks. One the client cancelled while it waited
// behind other messages is answered RequestCancelled, without the work. Params that lack
// what the handler reads are refused with InvalidParams, naming the field; they would
// otherwise fail inside the handler as an InternalError.

import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken } from 'vscode-languageserver';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const isIndex = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isPosition = (x: unknown) => isObject(x) && isIndex(x.line) && isIndex(x.character);

/** Each field a handler may read: its test, and what it must be. */
const FIELDS = {
  textDocument: [(p) => isObject(p.textDocument) && typeof p.textDocument.uri === 'string', 'an object with a string `uri`'],
  position: [(p) => isPosition(p.position), '{ line, character } of non-negative integers'],
  range: [(p) => isObject(p.range) && isPosition(p.range.start) && isPosition(p.range.end), '{ start, end } positions'],
  context: [(p) => isObject(p.context), 'an object'],
  newName: [(p) => typeof p.newName === 'string', 'a string'],
  query: [(p) => typeof p.query === 'string', 'a string'],
  options: [(p) => isObject(p.options), 'an object'],
} satisfies Record<string, [(p: Record<string, unknown>) => boolean, string]>;

export type Field = keyof typeof FIELDS;

export class RequestGuard {
  private started = false;
  private shutDown = false;

  /** initialize has been answered: requests are taken from now on. */
  initialize(): void {
    this.started = true;
  }

  /** After this, every request is refused. */
  shutdown(): void {
    this.shutDown = true;
  }

  /** `handler` behind the checks; `needs` are the params fields it reads. */
  wrap<P, R>(needs: readonly Field[], handler: (params: P) => R): (params: P, token: CancellationToken) => R {
    return (params, token) => {
      if (!this.started) throw new ResponseError(ErrorCodes.ServerNotInitialized, 'the server is not initialized: send initialize first');
      if (this.shutDown) throw new ResponseError(ErrorCodes.InvalidRequest, 'the server has been shut down: only exit is accepted now');
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'the request was cancelled');
      for (const field of needs) {
        const [valid, what] = FIELDS[field];
        if (!isObject(params) || !valid(params)) throw new ResponseError(ErrorCodes.InvalidParams, `params.${field} must be ${what}`);
      }
      return handler(params);
    };
  }
}
