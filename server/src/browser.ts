// The language server in a web worker (the browser playground): LSP messages through the
// worker's postMessage. Includes that are not open documents are the built-in ones only.

import { BrowserMessageReader, BrowserMessageWriter, createConnection } from 'vscode-languageserver/browser';
import { startServer } from './server.js';

declare const self: ConstructorParameters<typeof BrowserMessageReader>[0];

const connection = createConnection(new BrowserMessageReader(self), new BrowserMessageWriter(self));
startServer(connection, { readText: () => null });
