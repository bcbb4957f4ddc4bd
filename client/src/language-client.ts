// The language server as a separate Node process (dist/xenolab-lsp.mjs) spoken to over
// stdio. Settings reach it through workspace/configuration (section `xenolab`, whose
// `rules` it reads); initializationOptions carry them for the first analysis.

import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { BUILTIN_SCHEME, LspRequest } from '../../protocol/src/index.js';

export const LANGUAGE_SERVER_BUNDLE = 'dist/xenolab-lsp.mjs';

export function startLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath(LANGUAGE_SERVER_BUNDLE);
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'xasm' }],
    initializationOptions: { rules: vscode.workspace.getConfiguration('xenolab').get('rules') },
    diagnosticCollectionName: 'xenolab',
  };
  // The id is also the prefix of the `xenolab.trace.server` setting the client reads.
  const client = new LanguageClient('xenolab', 'xenolab language server', serverOptions, clientOptions);
  client.start().catch((e: unknown) => {
    void vscode.window.showErrorMessage(`The xenolab language server did not start: ${e instanceof Error ? e.message : String(e)}`);
  });
  // built-in files (xen.inc) the server points at open read-only, with the server's text
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(BUILTIN_SCHEME, {
    provideTextDocumentContent: async (uri) => (await client.sendRequest<string | null>(LspRequest.builtinFile, { uri: uri.toString() })) ?? '',
  }));
  return client;
}
