// A thin LSP client between monaco and the language server's web worker
// (dist/xenolab-lsp-worker.js): JSON-RPC over the worker's postMessage, every xasm model
// opened and kept in sync (includes too: the server reads no files in a browser, so an
// include it resolves is an open document), diagnostics as markers, and monaco's providers
// answered by the server's requests. What it leaves out is listed in ARCHITECTURE.md.

import {
  BrowserMessageReader, BrowserMessageWriter, createProtocolConnection, type ProtocolConnection,
  CodeActionRequest, CodeLensRequest, CompletionRequest, ConfigurationRequest, DefinitionRequest, DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification, DidOpenTextDocumentNotification, DocumentFormattingRequest, DocumentRangeFormattingRequest,
  DocumentSymbolRequest, FoldingRangeRequest, HoverRequest, InitializeRequest, InitializedNotification, InlayHintRequest,
  PrepareRenameRequest, PublishDiagnosticsNotification, ReferencesRequest, RenameRequest, SemanticTokensRequest, SignatureHelpRequest,
  type Diagnostic, type PublishDiagnosticsParams, type ServerCapabilities,
} from 'vscode-languageserver-protocol/browser';
import type { editor, languages } from 'monaco-editor/editor/editor.api.js';
import { BUILTIN_SCHEME, LspRequest } from '../../../protocol/src/index.js';
import { LANGUAGE_ID } from '../language.js';
import type { Monaco } from '../monaco.js';
import {
  toCompletion, toDocumentSymbol, toFoldingRange, toInlayHint, toLocation, toLspPosition, toLspRange, toMarkdown, toMarker, toMonacoRange, toTextEdit,
  toWorkspaceEdit,
} from './convert.js';

const MARKER_OWNER = 'xenolab';

export class LanguageClient {
  private readonly connection: ProtocolConnection;
  /** The server's latest diagnostics per document URI (code actions send back those in range). */
  private readonly diagnostics = new Map<string, Diagnostic[]>();
  private readonly listeners: ((p: PublishDiagnosticsParams) => void)[] = [];
  private capabilities: ServerCapabilities = {};

  constructor(private readonly monaco: Monaco, worker: Worker) {
    this.connection = createProtocolConnection(new BrowserMessageReader(worker), new BrowserMessageWriter(worker));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (p) => this.publish(p));
    // No settings in the playground: each rule keeps its default severity.
    this.connection.onRequest(ConfigurationRequest.type, (p) => p.items.map(() => null));
    this.connection.listen();
  }

  /** Calls `f` with every diagnostics notification (the bench times the first). */
  onDiagnostics(f: (p: PublishDiagnosticsParams) => void): void {
    this.listeners.push(f);
  }

  async start(): Promise<void> {
    const result = await this.connection.sendRequest(InitializeRequest.type, {
      processId: null, rootUri: 'file:///workspace', workspaceFolders: [{ uri: 'file:///workspace', name: 'workspace' }],
      // the playground shows xen.inc in a read-only tab: the server may point into it
      initializationOptions: { builtinFiles: true },
      capabilities: {
        textDocument: {
          synchronization: { dynamicRegistration: false },
          completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          publishDiagnostics: { relatedInformation: true },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
          semanticTokens: { requests: { full: true }, tokenTypes: [], tokenModifiers: [], formats: ['relative'] },
          inlayHint: {},
          rename: { prepareSupport: true },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
          foldingRange: {},
          formatting: {},
          rangeFormatting: {},
          codeLens: {},
        },
        workspace: { configuration: true },
      },
    });
    this.capabilities = result.capabilities;
    await this.connection.sendNotification(InitializedNotification.type, {});
    for (const model of this.monaco.editor.getModels()) this.open(model);
    this.monaco.editor.onDidCreateModel((model) => this.open(model));
    this.registerProviders();
  }

  private open(model: editor.ITextModel): void {
    // a built-in file (xen.inc) is shown from the server's text, not given to it
    if (model.getLanguageId() !== LANGUAGE_ID || model.uri.scheme === BUILTIN_SCHEME) return;
    const uri = model.uri.toString();
    void this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: LANGUAGE_ID, version: model.getVersionId(), text: model.getValue() },
    });
    const changes = model.onDidChangeContent((e) => void this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: model.getVersionId() },
      contentChanges: e.changes.map((c) => ({ range: toLspRange(c.range), rangeLength: c.rangeLength, text: c.text })),
    }));
    model.onWillDispose(() => {
      changes.dispose();
      this.diagnostics.delete(uri);
      void this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    });
  }

  private publish(p: PublishDiagnosticsParams): void {
    const model = this.monaco.editor.getModel(this.monaco.Uri.parse(p.uri));
    // A notification for an older version than the model's is already out of date.
    if (!model || (p.version !== undefined && p.version !== model.getVersionId())) return;
    this.diagnostics.set(p.uri, p.diagnostics);
    this.monaco.editor.setModelMarkers(model, MARKER_OWNER, p.diagnostics.map((d) => toMarker(this.monaco, d)));
    for (const f of this.listeners) f(p);
  }

  private doc(model: editor.ITextModel) {
    return { uri: model.uri.toString() };
  }

  /** A model for each built-in file among places the server named (read-only, its text from the server), so the editor can show them. */
  private async withBuiltins<T extends { uri: string }>(places: T[]): Promise<T[]> {
    for (const uri of new Set(places.map((p) => p.uri).filter((u) => u.startsWith(`${BUILTIN_SCHEME}:`)))) {
      const resource = this.monaco.Uri.parse(uri);
      if (this.monaco.editor.getModel(resource)) continue;
      const text = await this.connection.sendRequest<string | null>(LspRequest.builtinFile, { uri });
      if (text !== null && !this.monaco.editor.getModel(resource)) this.monaco.editor.createModel(text, LANGUAGE_ID, resource);
    }
    return places.filter((p) => !p.uri.startsWith(`${BUILTIN_SCHEME}:`) || this.monaco.editor.getModel(this.monaco.Uri.parse(p.uri)));
  }

  private registerProviders(): void {
    const { monaco, connection: c } = this;
    const L = monaco.languages;
    const versionOf = (uri: import('monaco-editor/editor/editor.api.js').Uri) => monaco.editor.getModel(uri)?.getVersionId();
    L.registerHoverProvider(LANGUAGE_ID, {
      provideHover: async (model, position) => {
        const h = await c.sendRequest(HoverRequest.type, { textDocument: this.doc(model), position: toLspPosition(position) });
        return h ? { contents: toMarkdown(h.contents), ...(h.range ? { range: toMonacoRange(h.range) } : {}) } : null;
      },
    });
    L.registerCompletionItemProvider(LANGUAGE_ID, {
      triggerCharacters: this.capabilities.completionProvider?.triggerCharacters ?? [],
      provideCompletionItems: async (model, position) => {
        const r = await c.sendRequest(CompletionRequest.type, { textDocument: this.doc(model), position: toLspPosition(position) });
        const word = model.getWordUntilPosition(position);
        const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
        const items = Array.isArray(r) ? r : r?.items ?? [];
        return { suggestions: items.map((i) => toCompletion(monaco, i, range)), incomplete: !Array.isArray(r) && !!r?.isIncomplete };
      },
    });
    L.registerDefinitionProvider(LANGUAGE_ID, {
      provideDefinition: async (model, position) => {
        const r = await c.sendRequest(DefinitionRequest.type, { textDocument: this.doc(model), position: toLspPosition(position) });
        const list = r === null ? [] : Array.isArray(r) ? r : [r];
        const places = list.map((l) => ('targetUri' in l ? { uri: l.targetUri, range: l.targetSelectionRange } : l));
        return (await this.withBuiltins(places)).map((l) => toLocation(monaco, l));
      },
    });
    L.registerReferenceProvider(LANGUAGE_ID, {
      provideReferences: async (model, position, context) =>
        (await this.withBuiltins((await c.sendRequest(ReferencesRequest.type, { textDocument: this.doc(model), position: toLspPosition(position), context })) ?? []))
          .map((l) => toLocation(monaco, l)),
    });
    L.registerSignatureHelpProvider(LANGUAGE_ID, {
      signatureHelpTriggerCharacters: this.capabilities.signatureHelpProvider?.triggerCharacters ?? [],
      provideSignatureHelp: async (model, position) => {
        const s = await c.sendRequest(SignatureHelpRequest.type, { textDocument: this.doc(model), position: toLspPosition(position) });
        if (!s) return null;
        return {
          value: {
            activeSignature: s.activeSignature ?? 0, activeParameter: s.activeParameter ?? 0,
            signatures: s.signatures.map((sig) => ({
              label: sig.label, ...(sig.documentation !== undefined ? { documentation: typeof sig.documentation === 'string' ? sig.documentation : { value: sig.documentation.value } } : {}),
              parameters: (sig.parameters ?? []).map((p) => ({ label: p.label })),
            })),
          },
          dispose() {},
        };
      },
    });
    L.registerCodeActionProvider(LANGUAGE_ID, {
      provideCodeActions: async (model, range) => {
        const lspRange = toLspRange(range);
        const overlapping = (this.diagnostics.get(model.uri.toString()) ?? []).filter((d) =>
          d.range.start.line <= lspRange.end.line && d.range.end.line >= lspRange.start.line);
        const r = await c.sendRequest(CodeActionRequest.type, { textDocument: this.doc(model), range: lspRange, context: { diagnostics: overlapping } });
        const actions: languages.CodeAction[] = (r ?? []).flatMap((a) => ('edit' in a && a.edit ? [{
          title: a.title, kind: a.kind ?? 'quickfix', isPreferred: a.isPreferred ?? false,
          diagnostics: a.diagnostics?.map((d) => toMarker(monaco, d)) ?? [],
          edit: toWorkspaceEdit(monaco, a.edit, versionOf),
        }] : []));
        return { actions, dispose() {} };
      },
    }, { providedCodeActionKinds: ['quickfix'] });
    L.registerInlayHintsProvider(LANGUAGE_ID, {
      provideInlayHints: async (model, range) => {
        const hints = await c.sendRequest(InlayHintRequest.type, { textDocument: this.doc(model), range: toLspRange(range) });
        return { hints: (hints ?? []).map((h) => toInlayHint(monaco, h)), dispose() {} };
      },
    });
    L.registerRenameProvider(LANGUAGE_ID, {
      // a name the server will not rename (a register, a clash) says why in the rename box
      resolveRenameLocation: async (model, position) => {
        try {
          const r = await c.sendRequest(PrepareRenameRequest.type, { textDocument: this.doc(model), position: toLspPosition(position) });
          if (!r || !('start' in r)) return { range: new monaco.Range(position.lineNumber, position.column, position.lineNumber, position.column), text: '', rejectReason: 'Nothing to rename here.' };
          const range = toMonacoRange(r);
          return { range, text: model.getValueInRange(range) };
        } catch (e) {
          return { range: new monaco.Range(position.lineNumber, position.column, position.lineNumber, position.column), text: '', rejectReason: (e as Error).message };
        }
      },
      provideRenameEdits: async (model, position, newName) => {
        try {
          const edit = await c.sendRequest(RenameRequest.type, { textDocument: this.doc(model), position: toLspPosition(position), newName });
          return edit ? toWorkspaceEdit(monaco, edit, versionOf) : { edits: [] };
        } catch (e) {
          return { edits: [], rejectReason: (e as Error).message };
        }
      },
    });
    L.registerDocumentSymbolProvider(LANGUAGE_ID, {
      provideDocumentSymbols: async (model) => {
        const r = await c.sendRequest(DocumentSymbolRequest.type, { textDocument: this.doc(model) });
        return (r ?? []).flatMap((s) => ('selectionRange' in s ? [toDocumentSymbol(s)] : []));
      },
    });
    L.registerFoldingRangeProvider(LANGUAGE_ID, {
      provideFoldingRanges: async (model) => ((await c.sendRequest(FoldingRangeRequest.type, { textDocument: this.doc(model) })) ?? []).map((f) => toFoldingRange(monaco, f)),
    });
    L.registerDocumentFormattingEditProvider(LANGUAGE_ID, {
      provideDocumentFormattingEdits: async (model, options) =>
        ((await c.sendRequest(DocumentFormattingRequest.type, { textDocument: this.doc(model), options: { tabSize: options.tabSize, insertSpaces: options.insertSpaces } })) ?? []).map(toTextEdit),
    });
    L.registerDocumentRangeFormattingEditProvider(LANGUAGE_ID, {
      provideDocumentRangeFormattingEdits: async (model, range, options) =>
        ((await c.sendRequest(DocumentRangeFormattingRequest.type, {
          textDocument: this.doc(model), range: toLspRange(range), options: { tabSize: options.tabSize, insertSpaces: options.insertSpaces },
        })) ?? []).map(toTextEdit),
    });
    L.registerCodeLensProvider(LANGUAGE_ID, {
      provideCodeLenses: async (model) => {
        const lenses = (await c.sendRequest(CodeLensRequest.type, { textDocument: this.doc(model) })) ?? [];
        return { lenses: lenses.map((l) => ({ range: toMonacoRange(l.range), ...(l.command ? { command: { id: '', title: l.command.title } } : {}) })), dispose() {} };
      },
    });
    const legend = this.capabilities.semanticTokensProvider?.legend;
    if (legend) {
      L.registerDocumentSemanticTokensProvider(LANGUAGE_ID, {
        getLegend: () => legend,
        provideDocumentSemanticTokens: async (model) => {
          const t = await c.sendRequest(SemanticTokensRequest.type, { textDocument: this.doc(model) });
          return t ? { data: Uint32Array.from(t.data), ...(t.resultId ? { resultId: t.resultId } : {}) } : null;
        },
        releaseDocumentSemanticTokens() {},
      });
    }
  }
}
