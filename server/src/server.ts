// The language server: LSP over the analysis core and the navigation index. Documents are
// kept with incremental sync; each change is analysed (the newest version only) and its
// diagnostics published; hovers, completions, definitions, references, renames, outlines
// and quick fixes read the last analysis. The connection is given (stdio in Node, a
// worker's message port in the browser), as is the way to read files that are not open.

import {
  CodeActionKind, CompletionItemKind, DiagnosticSeverity, SymbolKind, TextDocumentSyncKind, TextDocuments,
  type CodeAction, type CompletionItem, type Connection, type Diagnostic, type DocumentSymbol, type InitializeResult,
  type Location, type TextEdit, type WorkspaceEdit,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { assemble, withBuiltins, type SourceProvider } from '../../asm/src/index.js';
import { analyze, type AnalysisOptions, type Finding } from './analysis/index.js';
import { completionsAt, type Completion } from './language/completion.js';
import { hoverFor } from './language/hover.js';
import { semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from './language/tokens.js';
import { buildIndex, nameAt, offsetAt, wordAt, type Range, type SymbolIndex } from './language/symbols.js';

// Both hosts (Node, a browser worker) have it; the project compiles against neither's types.
declare const setTimeout: (callback: () => void, ms: number) => unknown;

/** Files that are not open in the editor (includes): null where there is none. */
export interface ServerFiles {
  readText(path: string): string | null;
}

interface Analysis {
  version: number;
  index: SymbolIndex;
  findings: Finding[];
}

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint,
};

/** file:///a/b.xasm ↔ /a/b.xasm (other schemes keep their URI as the path). */
export function uriToPath(uri: string): string {
  return uri.startsWith('file://') ? decodeURIComponent(uri.slice('file://'.length)) : uri;
}
export function pathToUri(path: string): string {
  return path.startsWith('/') ? 'file://' + path.split('/').map(encodeURIComponent).join('/') : path;
}

const toLsp = (r: Range) => ({ start: { line: r.start.line, character: r.start.column }, end: { line: r.end.line, character: r.end.column } });

export function startServer(connection: Connection, files: ServerFiles): void {
  const documents = new TextDocuments(TextDocument);
  const analyses = new Map<string, Analysis>();
  let options: AnalysisOptions = {};

  const provider: SourceProvider = withBuiltins({
    read(path, from) {
      const candidates = path.startsWith('/') ? [path] : [from.slice(0, from.lastIndexOf('/') + 1) + path];
      for (const c of candidates) {
        const open = documents.get(pathToUri(c));
        if (open) return { path: c, text: open.getText() };
        const text = files.readText(c);
        if (text !== null) return { path: c, text };
      }
      return null;
    },
  });

  /** Analyses a document as it is now (cached by version). */
  function analysis(doc: TextDocument): Analysis {
    const have = analyses.get(doc.uri);
    if (have && have.version === doc.version) return have;
    const path = uriToPath(doc.uri);
    const text = doc.getText();
    // One assembly serves both the navigation index and the analysis.
    let assembled: ReturnType<typeof assemble> | undefined;
    let index: SymbolIndex;
    try {
      assembled = assemble({ path, text, provider });
      index = buildIndex(assembled);
    } catch {
      index = { definitions: new Map(), occurrences: [], files: new Map() };
    }
    let findings: Finding[];
    try {
      findings = analyze({ path, text, provider }, options, assembled).findings;
    } catch (e) {
      findings = [{ code: 'internal', severity: 'error', file: path, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } }, message: `xenolab could not analyse this file: ${(e as Error).message}`, related: [], fixes: [] }];
    }
    const a = { version: doc.version, index, findings };
    analyses.set(doc.uri, a);
    return a;
  }

  // The newest version of each changed document is analysed once the queue of changes is read.
  const pending = new Set<string>();
  function schedule(uri: string): void {
    if (pending.has(uri)) return;
    pending.add(uri);
    setTimeout(() => {
      pending.delete(uri);
      const doc = documents.get(uri);
      if (doc) publish(doc);
    }, 0);
  }

  function publish(doc: TextDocument): void {
    const a = analysis(doc);
    const path = uriToPath(doc.uri);
    const diagnostics = a.findings.filter((f) => f.file === path).map((f): Diagnostic => ({
      range: toLsp(f.range), severity: SEVERITY[f.severity], code: f.code, source: 'xenolab', message: f.message,
      relatedInformation: f.related.map((r) => ({ location: { uri: pathToUri(r.file), range: toLsp(r.range) }, message: r.message })),
    }));
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  }

  connection.onInitialize((params): InitializeResult => {
    const init = params.initializationOptions as { rules?: AnalysisOptions['rules'] } | undefined;
    if (init?.rules) options = { rules: init.rules };
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['.', '_', '%'] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        semanticTokensProvider: { legend: { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] }, full: true },
      },
      serverInfo: { name: 'xenolab', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration((change) => {
    const rules = (change.settings as { xenolab?: { rules?: AnalysisOptions['rules'] } } | undefined)?.xenolab?.rules;
    options = rules ? { rules } : {};
    analyses.clear();
    for (const d of documents.all()) schedule(d.uri);
  });

  documents.onDidChangeContent((e) => schedule(e.document.uri));
  documents.onDidClose((e) => {
    analyses.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const a = analysis(doc);
    const file = a.index.files.get(uriToPath(doc.uri));
    const pos = { line: p.position.line, column: p.position.character };
    const word = file ? wordAt(file, pos) : null;
    if (!word) return null;
    const occ = nameAt(a.index, uriToPath(doc.uri), pos);
    const text = hoverFor(occ?.name ?? word.text, a.index);
    return text === null ? null : { contents: { kind: 'markdown', value: text }, range: toLsp(word.range) };
  });

  const KIND: Record<Completion['kind'], CompletionItemKind> = {
    mnemonic: CompletionItemKind.Keyword, macro: CompletionItemKind.Function, directive: CompletionItemKind.Keyword,
    register: CompletionItemKind.Variable, label: CompletionItemKind.Reference, constant: CompletionItemKind.Constant,
  };
  connection.onCompletion((p): CompletionItem[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const line = doc.getText({ start: { line: p.position.line, character: 0 }, end: p.position });
    const index = analyses.get(doc.uri)?.index ?? null; // the last analysis: completion must not wait for a new one
    return completionsAt(line, index).map((c) => ({ label: c.label, kind: KIND[c.kind], detail: c.detail, documentation: c.documentation }));
  });

  const occurrence = (uri: string, line: number, character: number) => {
    const doc = documents.get(uri);
    if (!doc) return null;
    const a = analysis(doc);
    const occ = nameAt(a.index, uriToPath(uri), { line, column: character });
    return occ ? { a, occ } : null;
  };
  const located = (file: string, range: Range): Location => ({ uri: pathToUri(file), range: toLsp(range) });
  const real = (file: string) => file.startsWith('/');

  connection.onDefinition((p) => {
    const o = occurrence(p.textDocument.uri, p.position.line, p.position.character);
    const d = o && o.a.index.definitions.get(o.occ.name);
    return d && real(d.file) ? located(d.file, d.range) : null;
  });

  connection.onReferences((p) => {
    const o = occurrence(p.textDocument.uri, p.position.line, p.position.character);
    if (!o) return [];
    const d = o.a.index.definitions.get(o.occ.name);
    return o.a.index.occurrences
      .filter((x) => x.name === o.occ.name && real(x.file))
      .filter((x) => p.context.includeDeclaration || !(d && x.file === d.file && x.range.start.line === d.range.start.line && x.range.start.column === d.range.start.column))
      .map((x) => located(x.file, x.range));
  });

  connection.onPrepareRename((p) => {
    const o = occurrence(p.textDocument.uri, p.position.line, p.position.character);
    const d = o && o.a.index.definitions.get(o.occ.name);
    if (!o || !d || !real(d.file)) return null;
    return toLsp(o.occ.range);
  });

  connection.onRenameRequest((p): WorkspaceEdit | null => {
    const o = occurrence(p.textDocument.uri, p.position.line, p.position.character);
    if (!o) return null;
    const d = o.a.index.definitions.get(o.occ.name);
    if (!d || !real(d.file)) return null;
    if (!/^[A-Za-z_.?@$][\w.?@$#~]*$/.test(p.newName)) throw new Error(`'${p.newName}' is not a valid name`);
    // A local label is written `.x` under its parent and `parent.x` elsewhere: each keeps its form.
    const base = p.newName.replace(/^\./, '');
    const changes: Record<string, TextEdit[]> = {};
    for (const x of o.a.index.occurrences.filter((y) => y.name === o.occ.name && real(y.file))) {
      const f = o.a.index.files.get(x.file)!;
      const written = f.text.slice(offsetAt(f, x.range.start), offsetAt(f, x.range.end));
      const newText = d.kind !== 'local' ? p.newName : written.startsWith('.') ? `.${base}` : `${d.parent}.${base}`;
      (changes[pathToUri(x.file)] ??= []).push({ range: toLsp(x.range), newText });
    }
    return { changes };
  });

  connection.onDocumentSymbol((p): DocumentSymbol[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const a = analysis(doc);
    const path = uriToPath(doc.uri);
    const mine = [...a.index.definitions.values()].filter((d) => d.file === path);
    const top = mine.filter((d) => d.kind !== 'local').map((d): DocumentSymbol => ({
      name: d.name,
      kind: d.kind === 'label' ? SymbolKind.Function : d.kind === 'macro' ? SymbolKind.Method : SymbolKind.Constant,
      detail: d.value !== undefined ? `0x${d.value.toString(16)}` : undefined,
      range: toLsp(d.range), selectionRange: toLsp(d.range),
      children: mine.filter((c) => c.kind === 'local' && c.parent === d.name).map((c) => ({
        name: c.name.slice(d.name.length), kind: SymbolKind.Key, range: toLsp(c.range), selectionRange: toLsp(c.range),
      })),
    }));
    return top;
  });

  connection.onCodeAction((p): CodeAction[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const a = analysis(doc);
    const path = uriToPath(doc.uri);
    const overlaps = (r: Range) => !(r.end.line < p.range.start.line || r.start.line > p.range.end.line);
    const actions: CodeAction[] = [];
    for (const f of a.findings.filter((x) => x.file === path && overlaps(x.range))) {
      for (const fix of f.fixes) {
        const changes: Record<string, TextEdit[]> = {};
        for (const e of fix.edits) (changes[pathToUri(e.file)] ??= []).push({ range: toLsp(e.range), newText: e.newText });
        actions.push({
          title: fix.title, kind: CodeActionKind.QuickFix, edit: { changes },
          diagnostics: [{ range: toLsp(f.range), message: f.message, code: f.code, source: 'xenolab' }],
        });
      }
    }
    return actions;
  });

  connection.languages.semanticTokens.on((p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return { data: [] };
    return { data: semanticTokens(uriToPath(doc.uri), doc.getText(), analyses.get(doc.uri)?.index ?? null) };
  });

  documents.listen(connection);
  connection.listen();
}
