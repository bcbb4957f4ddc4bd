// The language server as a separate Node process (dist/xenolab-lsp.mjs) spoken to over
// stdio. Settings reach it through workspace/configuration (section `xenolab`, whose
// `rules` it reads); initializationOptions carry them for the first analysis.

import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { BUILTIN_SCHEME, LspRequest } from '../../protocol/src/index.js';
import { LANGUAGE_ID } from './asm-association.js';

export const LANGUAGE_SERVER_BUNDLE = 'dist/xenolab-lsp.mjs';

export function startLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath(LANGUAGE_SERVER_BUNDLE);
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: LANGUAGE_ID }],
    // builtinFiles: the extension opens xen.inc's places (its content provider)
    initializationOptions: { rules: vscode.workspace.getConfiguration('xenolab').get('rules'), builtinFiles: true },
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
  // Include files open as guest assembly when a guest source includes them (their names
  // say nothing: `.inc` is many languages'), and so do the built-in ones.
  const adopt = (doc: vscode.TextDocument) => {
    void asGuestSource(client, doc).then((yes) => (yes ? vscode.languages.setTextDocumentLanguage(doc, LANGUAGE_ID) : undefined)).catch(() => undefined);
  };
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(adopt));
  vscode.workspace.textDocuments.forEach(adopt);
  return client;
}

/** Include files' extensions no language claims (a file another extension claimed stays its). */
const INCLUDE_EXTENSIONS = ['.inc', '.mac'];

/** Whether a document that is not guest assembly yet is a built-in file, or an include file a guest source includes. */
async function asGuestSource(client: LanguageClient, doc: vscode.TextDocument): Promise<boolean> {
  if (doc.languageId === LANGUAGE_ID) return false;
  if (doc.uri.scheme === BUILTIN_SCHEME) return true;
  if (doc.uri.scheme !== 'file' || doc.languageId !== 'plaintext' || !INCLUDE_EXTENSIONS.some((e) => doc.fileName.endsWith(e))) return false;
  return (await client.sendRequest<string | null>(LspRequest.includedBy, { textDocument: { uri: doc.uri.toString() } })) !== null;
}
