// The language server: LSP over the analysis core and the navigation index. Documents are
// kept with incremental sync; each change is analysed (the newest version only) and its
// diagnostics published; hovers, completions, definitions, references, renames, outlines
// and quick fixes read the last analysis. The connection is given (stdio in Node, a
// worker's message port in the browser), as is the way to read files that are not open.

import {
  CodeActionKind, Command, CompletionItemKind, DiagnosticSeverity, ErrorCodes, InsertTextFormat, LSPErrorCodes, MarkupKind, ResponseError, SymbolKind, TextDocumentSyncKind, TextDocuments,
  type CodeAction, type CompletionItem, type Connection, type Diagnostic, type DocumentSymbol, type InitializeResult,
  type DocumentLink, type Location, type TextEdit, type WorkspaceEdit,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { assemble, BUILTIN_PREFIX, builtinInclude, dirName, resolvePath, withBuiltins, type SourceProvider } from '../../asm/src/index.js';
import { BUILTIN_SCHEME, LspRequest, type InitializationOptions } from '../../protocol/src/index.js';
import { analyze, assembleFor, type AnalysisOptions, type Finding } from './analysis/index.js';
import { completionsAt, completionWordStart, snippetText, type Completion } from './language/completion.js';
import { hoverFor, hypercallArgumentHover } from './language/hover.js';
import { semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from './language/tokens.js';
import { buildIndex, labelAbove, nameAt, scopeAt, wordAt, type Definition, type Range, type SymbolIndex } from './language/symbols.js';
import {
  DidChangeConfigurationNotification, DidChangeWatchedFilesNotification, FileChangeType, FoldingRangeKind, InlayHintKind, type CodeLens, type FoldingRange, type FormattingOptions,
  type InitializeParams, type InlayHint, type SignatureHelp, type SymbolInformation,
} from 'vscode-languageserver';
import type { Context } from './analysis/index.js';
import { foldingRanges } from './language/folding.js';
import { formatDocument } from './language/format.js';
import { inlayHints } from './language/inlay.js';
import { codeLenses } from './language/lens.js';
import { includeNames } from './language/includes.js';
import { renameEdits, renameProblem } from './language/rename.js';
import { macroSignatureAt } from './language/signature.js';
import { RequestGuard } from './requests.js';
import {
  definitionAt, isDefinition, MAX_WORKSPACE_FILES, outer, referencesOf, referencesTo, SOURCE_EXTENSIONS, WorkspaceIndex, workspaceSymbols,
} from './language/workspace.js';

// Both hosts (Node, a browser worker) have setTimeout, Node setImmediate too; the project
// compiles against neither's types.
declare const setTimeout: (callback: () => void, ms: number) => unknown;
declare const setImmediate: ((callback: () => void) => unknown) | undefined;
/** Runs `f` once the messages already read are handled (the connection handles one per turn of the event loop). */
const nextTurn: (f: () => void) => unknown = typeof setImmediate === 'function' ? setImmediate : (f) => setTimeout(f, 0);

/** Files that are not open in the editor (includes): null where there is none. */
export interface ServerFiles {
  readText(path: string): string | null;
  /** Up to `limit` files under a folder (recursively) whose names end in one of `extensions`; hosts without files leave it out. */
  listFiles?(folder: string, extensions: readonly string[], limit: number): string[];
}

interface Analysis {
  version: number;
  /** The navigation index, built when first read: diagnostics do not wait for it. */
  readonly index: SymbolIndex;
  /** Whether `index` has been built (forget() keeps only a built one). */
  readonly indexBuilt: boolean;
  findings: Finding[];
  /** The program, CFG and dataflow of the analysis (code lenses, inlay hints). */
  context?: Context;
}

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint,
};

/** file:///a/b.xasm ↔ /a/b.xasm, xenolab-builtin:/xen.inc ↔ <builtin>/xen.inc (other schemes keep their URI as the path). */
export function uriToPath(uri: string): string {
  if (uri.startsWith(BUILTIN_URI)) return BUILTIN_PREFIX + decoded(uri.slice(BUILTIN_URI.length));
  return uri.startsWith('file://') ? decoded(uri.slice('file://'.length)) : uri;
}
/** Percent-escapes decoded; one that is malformed (`100%.xasm`, a lone `%E9`) is kept as written, not thrown. */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%[0-9a-fA-F]{2}/g, (e) => {
      const c = Number.parseInt(e.slice(1), 16);
      return c < 0x80 ? String.fromCharCode(c) : e;
    });
  }
}
/** As VS Code writes file URIs: in each segment, all but letters, digits and -._~ percent-encoded. */
export function pathToUri(path: string): string {
  if (path.startsWith(BUILTIN_PREFIX)) return BUILTIN_URI + uriSegment(path.slice(BUILTIN_PREFIX.length));
  return path.startsWith('/') ? 'file://' + path.split('/').map(uriSegment).join('/') : path;
}
const BUILTIN_URI = `${BUILTIN_SCHEME}:/`;
const uriSegment = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const SYMBOL_KIND: Record<Definition['kind'], SymbolKind> = {
  label: SymbolKind.Function, local: SymbolKind.Key, macro: SymbolKind.Method, constant: SymbolKind.Constant, define: SymbolKind.Constant,
};


/** Files whose change on disk may change an analysis: sources and what they include. */
const WATCHED_FILES = '**/*.{xasm,asm,inc,mac}';

const toLsp = (r: Range) => ({ start: { line: r.start.line, character: r.start.column }, end: { line: r.end.line, character: r.end.column } });

export function startServer(connection: Connection, files: ServerFiles): void {
  const documents = new TextDocuments(TextDocument);
  const analyses = new Map<string, Analysis>();
  /** The LSP items of a completion list (completionsAt shares its lists while the index stays), as this client takes them. */
  const ITEMS = new WeakMap<readonly Completion[], CompletionItem[]>();
  // Open documents by path, with the URI the client gave (clients encode paths differently:
  // `+`, `(`, lowercase escapes): a file is looked up, and named back, as the client knows it.
  const openUris = new Map<string, string>();
  documents.onDidOpen((e) => openUris.set(uriToPath(e.document.uri), e.document.uri));
  documents.onDidClose((e) => {
    const path = uriToPath(e.document.uri);
    if (openUris.get(path) === e.document.uri) openUris.delete(path);
  });
  /** The URI of a path: the open document's, else as VS Code writes it. */
  const uriOf = (path: string) => openUris.get(path) ?? pathToUri(path);
  const openAt = (path: string) => documents.get(uriOf(path));
  let options: AnalysisOptions = {};

  /**
   * Where `%include "path"` in `from` looks, in order: beside `from`, then in each
   * workspace folder (as `xenolab lint` looks in the directory it runs in), `.` and `..`
   * resolved (the path of the document open there). A document that is no file (an
   * untitled one) has its includes beside its name as written.
   */
  const includePaths = (path: string, from: string): string[] => {
    if (path.startsWith('/')) return [resolvePath('/', path)];
    const beside = from.startsWith('/') ? resolvePath(dirName(from), path) : from.slice(0, from.lastIndexOf('/') + 1) + path;
    return [beside, ...client.folders.map((f) => resolvePath(f, path)).filter((p) => p !== beside)];
  };
  const provider: SourceProvider = withBuiltins({
    read(path, from) {
      for (const c of includePaths(path, from)) {
        const open = openAt(c);
        if (open) return { path: c, text: open.getText() };
        const text = files.readText(c);
        if (text !== null) return { path: c, text };
      }
      return null;
    },
  });
  /** The provider, noting in `reads` every file an assembly asks for, found or not (one that appears later is a change too). */
  const recording = (reads: Set<string>): SourceProvider => ({
    read(path, from) {
      for (const c of includePaths(path, from)) reads.add(c);
      return provider.read(path, from);
    },
  });

  /** Analyses a document as it is now (cached by version). */
  function analysis(doc: TextDocument): Analysis {
    const have = analyses.get(doc.uri);
    if (have && have.version === doc.version) return have;
    if (have) forget(doc.uri, have);
    const path = uriToPath(doc.uri);
    const text = doc.getText();
    // the files it asks for: a change to one of them is a change to it
    const reads = new Set<string>();
    includesOf.set(doc.uri, reads);
    askedIncluder.delete(doc.uri);
    // One assembly serves both the analysis and (when first asked for) the navigation index.
    let assembled: ReturnType<typeof assemble> | undefined;
    try {
      // its last analysis is forgotten (above): its trees may move where they are
      assembled = assembleFor(path, text, recording(reads), true);
    } catch {
      // analyze() assembles again and reports what went wrong
    }
    // Open files it includes that looked for what their includer defines: this is a new
    // includer (not when this analysis was itself one such, or made because a file it
    // reads changed: documents that include each other would analyse each other for ever).
    if (!have || !Number.isNaN(have.version)) includerAppeared(reads, doc.uri);
    let findings: Finding[];
    let context: Context | undefined;
    // Names the document lacks may be defined by a file that includes it (looked for only
    // when there are such names); it is then read too, for what it defines, and its index
    // (which holds this document's names as well) answers navigation and completion here.
    let includer: { path: string; index: SymbolIndex } | null | undefined;
    try {
      // The workspace's .inc files at or below the document's folder, as %include names them:
      // a name the document uses and one of them defines gets an "Add %include" fix.
      const folder = path.slice(0, path.lastIndexOf('/') + 1);
      const includeCandidates = workspace.paths().filter((p) => p.endsWith('.inc') && p.startsWith(folder)).map((p) => p.slice(folder.length));
      const definedByIncluder = (name: string) => {
        if (includer === undefined) {
          askedIncluder.add(doc.uri);
          analysing.add(doc.uri);
          includer = includerOf(path);
          analysing.delete(doc.uri);
          if (includer) reads.add(includer.path);
        }
        return includer?.index.definitions.has(name) ?? false;
      };
      ({ findings, context } = analyze({ path, text, provider, includeCandidates, definedByIncluder }, options, assembled));
    } catch (e) {
      findings = [{ code: 'internal', severity: 'error', file: path, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } }, message: `xenolab could not analyse this file: ${(e as Error).message}`, related: [], fixes: [] }];
    }
    let index: SymbolIndex | undefined;
    const a: Analysis = {
      version: doc.version, findings, context,
      get index() {
        return (index ??= includer?.index ?? indexOf(assembled));
      },
      get indexBuilt() {
        return index !== undefined;
      },
    };
    analyses.set(doc.uri, a);
    return a;
  }

  function indexOf(assembled: ReturnType<typeof assemble> | undefined): SymbolIndex {
    try {
      if (assembled) return buildIndex(assembled);
    } catch {
      // an index with nothing in it: navigation finds nothing, the rest still works
    }
    return { definitions: new Map(), occurrences: [], files: new Map() };
  }

  /**
   * Keeps only the index of a document's last analysis, if it was built (completion reads
   * the last one). The rest is dropped before the next is built, so that it is garbage then
   * instead of being held (and promoted by the collector) alongside the new one.
   */
  function forget(uri: string, a: Analysis): void {
    const index = a.indexBuilt ? a.index : indexOf(undefined);
    analyses.set(uri, { version: NaN, index, indexBuilt: true, findings: [] });
  }

  /** The files (includes) each document's last assembly read, by the document's URI (and the file that includes it, when its names were looked up there). */
  const includesOf = new Map<string, ReadonlySet<string>>();
  /** Documents being analysed (an includer looked up while analysing one is not analysed through it again). */
  const analysing = new Set<string>();
  /** Documents whose last analysis looked for names in a file that includes them. */
  const askedIncluder = new Set<string>();

  /**
   * A file that includes `path`, and its index: the outermost of the open documents that do
   * (through other files or not), else of the workspace's files.
   */
  function includerOf(path: string): { path: string; index: SymbolIndex } | null {
    let best: { path: string; index: SymbolIndex } | null = null;
    for (const [uri, paths] of includesOf) {
      const doc = documents.get(uri);
      if (!doc || !paths.has(path) || uriToPath(uri) === path || analysing.has(uri)) continue;
      const index = analysis(doc).index;
      if (index.files.has(path) && (!best || outer(index, best.index))) best = { path: uriToPath(uri), index };
    }
    if (best) return best;
    // among the workspace indexes built so far; the others are built in the background,
    // and one that includes this document analyses it again (see `workspace`)
    const found = workspace.includerOf(path);
    if (!found) indexInBackground();
    return found;
  }

  /**
   * A file changed (edited, closed, or changed on disk): the open documents whose last
   * assembly read it are analysed again, though their own text is the same.
   */
  function fileChanged(path: string): void {
    for (const [uri, paths] of includesOf) if (paths.has(path)) reanalyse(uri);
  }

  /** The open documents among `paths` (but `except`) that looked for their includer's names: one may be here now. */
  function includerAppeared(paths: Iterable<string>, except?: string): void {
    for (const path of paths) {
      const uri = uriOf(path);
      if (uri !== except && askedIncluder.has(uri) && !analysing.has(uri)) reanalyse(uri);
    }
  }

  /** A document is analysed again (though its text is the same) and its diagnostics published. */
  function reanalyse(uri: string): void {
    const a = analyses.get(uri);
    if (a) forget(uri, a);
    schedule(uri);
  }

  // The newest version of each changed document is analysed once the queue of changes is
  // read. The connection handles a message per turn of the event loop, after this turn's
  // wait: so a wait looks again after a turn that handled a change, and the first always
  // does (no timer's delay after the last change of a burst).
  const pending = new Set<string>();
  let changes = 0;
  function schedule(uri: string): void {
    changes++;
    if (pending.has(uri)) return;
    pending.add(uri);
    let seen = -1;
    const run = () => {
      if (seen !== changes) {
        seen = changes;
        nextTurn(run);
        return;
      }
      pending.delete(uri);
      const doc = documents.get(uri);
      if (doc) publish(doc);
    };
    nextTurn(run);
  }

  function publish(doc: TextDocument): void {
    const a = analysis(doc);
    const path = uriToPath(doc.uri);
    const diagnostics = a.findings.filter((f) => f.file === path).map((f): Diagnostic => ({
      range: toLsp(f.range), severity: SEVERITY[f.severity], code: f.code, source: 'xenolab', message: f.message,
      relatedInformation: f.related.filter((r) => shown(r.file)).map((r) => ({ location: { uri: uriOf(r.file), range: toLsp(r.range) }, message: r.message })),
    }));
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
    refreshTokens(doc, a);
  }

  // the checks every request passes first (see requests.ts)
  const guard = new RequestGuard();
  connection.onShutdown(() => guard.shutdown());

  connection.onInitialize((params): InitializeResult => {
    const init = params.initializationOptions as InitializationOptions | null | undefined;
    if (init?.rules) options = { rules: init.rules };
    initialRules = init?.rules;
    client = clientOf(params);
    guard.initialize();
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['.', '_', '%'] },
        definitionProvider: true,
        documentLinkProvider: { resolveProvider: false },
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        semanticTokensProvider: { legend: { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] }, full: true, range: true },
        signatureHelpProvider: { triggerCharacters: [' ', ','], retriggerCharacters: [','] },
        workspaceSymbolProvider: true,
        foldingRangeProvider: true,
        inlayHintProvider: true,
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [APPLY_EDIT, SHOW_LENS] },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'xenolab', version: '0.1.0' },
    };
  });

  /** New rule settings: every document is analysed again. */
  function configure(rules: AnalysisOptions['rules'] | undefined): void {
    options = rules ? { rules } : {};
    analyses.clear();
    for (const d of documents.all()) schedule(d.uri);
  }

  connection.onDidChangeConfiguration((change) => {
    // A client that answers workspace/configuration is asked again (its notification may carry no settings).
    if (client.pull) {
      void pullConfiguration();
      return;
    }
    // pushed: settings of other sections leave xenolab's as they are
    const settings = change.settings as { xenolab?: { rules?: AnalysisOptions['rules'] } } | null | undefined;
    if (settings && typeof settings === 'object' && 'xenolab' in settings) configure(settings.xenolab?.rules ?? initialRules);
  });

  documents.onDidChangeContent((e) => {
    schedule(e.document.uri);
    fileChanged(uriToPath(e.document.uri));
  });
  documents.onDidClose((e) => {
    analyses.delete(e.document.uri);
    tokensFrom.delete(e.document.uri);
    includesOf.delete(e.document.uri);
    askedIncluder.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    // its includers read it from the disk now
    fileChanged(uriToPath(e.document.uri));
  });
  // Files that are not open, changed on disk (the client watches them: registered below).
  connection.onDidChangeWatchedFiles((p) => {
    let created = false;
    for (const change of p.changes) {
      const path = uriToPath(change.uri);
      if (change.type === FileChangeType.Created) created = true;
      if (change.type === FileChangeType.Deleted) workspace.remove(path);
      if (documents.get(change.uri)) continue; // the editor's text is what counts
      fileChanged(path);
      workspace.changed(path);
    }
    // a new file: the folders are listed again (the host decides what belongs to the workspace)
    if (created) indexFolders(client.folders);
  });

  connection.onHover(guard.wrap(['textDocument', 'position'], (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const a = analysis(doc);
    const file = a.index.files.get(uriToPath(doc.uri));
    const pos = { line: p.position.line, column: p.position.character };
    const word = file ? wordAt(file, pos) : null;
    if (!word) return null;
    const occ = nameAt(a.index, uriToPath(doc.uri), pos);
    const before = doc.getText({ start: { line: word.range.start.line, character: 0 }, end: { line: word.range.start.line, character: word.range.start.column } });
    const text = hypercallArgumentHover(before, word.text) ?? hoverFor(occ?.name ?? word.text, a.index);
    if (text === null) return null;
    return { contents: client.markdown ? { kind: MarkupKind.Markdown, value: text } : { kind: MarkupKind.PlainText, value: plainText(text) }, range: toLsp(word.range) };
  }));

  const KIND: Record<Completion['kind'], CompletionItemKind> = {
    mnemonic: CompletionItemKind.Keyword, macro: CompletionItemKind.Function, directive: CompletionItemKind.Keyword,
    register: CompletionItemKind.Variable, label: CompletionItemKind.Reference, constant: CompletionItemKind.Constant, snippet: CompletionItemKind.Snippet,
  };
  connection.onCompletion(guard.wrap(['textDocument', 'position'], (p): CompletionItem[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const line = doc.getText({ start: { line: p.position.line, character: 0 }, end: p.position });
    const last = analyses.get(doc.uri);
    const index = last?.index ?? null; // the last analysis: completion must not wait for a new one
    // the label a `.name` belongs to; lines may have moved since that analysis: then it is read from the text
    const scope = () => (last?.version === doc.version && index ? scopeAt(index, uriToPath(doc.uri), p.position.line) : labelAbove(doc.getText(), p.position.line));
    const list = completionsAt(line, index, scope);
    const item = (c: Completion): CompletionItem => ({
      label: c.label, kind: KIND[c.kind], detail: c.detail, documentation: c.documentation,
      ...(c.snippet === undefined ? {} : client.snippets ? { insertText: c.snippet, insertTextFormat: InsertTextFormat.Snippet } : { insertText: snippetText(c.snippet) }),
    });
    // A word with `%`, `.` or `$` in it: the items say what they replace (a client's own
    // idea of a word ends at those and would filter or insert them wrongly).
    const start = completionWordStart(line);
    if (/[^\w]/.test(line.slice(start))) {
      const range = { start: { line: p.position.line, character: start }, end: p.position };
      return list.map((c) => {
        const it = item(c);
        return { ...it, textEdit: { range, newText: it.insertText ?? c.label } };
      });
    }
    let items = ITEMS.get(list);
    if (!items) ITEMS.set(list, (items = list.map(item)));
    return items;
  }));

  /** Indexes to navigate by, freshest first: the document's, the other open documents', the workspace files'. */
  function* sources(uri?: string): Generator<SymbolIndex> {
    const doc = uri === undefined ? undefined : documents.get(uri);
    if (doc) yield analysis(doc).index;
    for (const d of documents.all()) if (d.uri !== uri) yield analysis(d).index;
    const open = new Set(documents.keys().map(uriToPath));
    yield* workspace.indexes((path) => open.has(path));
  }
  /** The definition of the name at a place: from the document's assembly, or one of a file that includes it. */
  const resolve = (uri: string, p: { line: number; character: number }) =>
    documents.get(uri) ? definitionAt(sources(uri), uriToPath(uri), { line: p.line, column: p.character }) : null;
  const located = (file: string, range: Range): Location => ({ uri: uriOf(file), range: toLsp(range) });
  const real = (file: string) => file.startsWith('/');
  /** A file the client can open: a real one, or a built-in one when it said it can show those (initializationOptions). */
  const shown = (file: string) => real(file) || (client.builtinFiles && file.startsWith(BUILTIN_PREFIX));

  /** The file `%include "name"` in `doc` reads, where the assembler finds it (real files only), or null. */
  function includedFile(doc: TextDocument, name: string): string | null {
    const found = provider.read(name, uriToPath(doc.uri));
    return found && real(found.path) ? found.path : null;
  }

  connection.onDocumentLinks(guard.wrap(['textDocument'], (p): DocumentLink[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    return includeNames(doc.getText()).flatMap((inc) => {
      const path = includedFile(doc, inc.name);
      return path ? [{ range: toLsp(inc.range), target: uriOf(path), tooltip: path }] : [];
    });
  }));

  // the text of a built-in file the editor opens from a place the server pointed at
  connection.onRequest(LspRequest.builtinFile, guard.wrap([], (p: { uri?: unknown }) => {
    const path = typeof p?.uri === 'string' ? uriToPath(p.uri) : '';
    return path.startsWith(BUILTIN_PREFIX) ? builtinInclude(path.slice(BUILTIN_PREFIX.length)) ?? null : null;
  }));

  connection.onRequest(LspRequest.includedBy, guard.wrap(['textDocument'], async (p: { textDocument: { uri: string } }) => {
    const path = uriToPath(p.textDocument.uri);
    // the open documents and the indexes built so far; else the rest of the workspace's
    // files indexed a few at a time (the server answering other messages between)
    for (let more = true; ;) {
      const includer = includerOf(path);
      if (includer || !more) return includer ? uriOf(includer.path) : null;
      more = workspace.step(4);
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  }));

  connection.onDefinition(guard.wrap(['textDocument', 'position'], (p) => {
    const doc = documents.get(p.textDocument.uri);
    const at = { line: p.position.line, column: p.position.character };
    const within = (r: Range) => r.start.line === at.line && r.start.column <= at.column && at.column <= r.end.column;
    // on an %include's name: the file (only that one is looked for)
    const inc = doc && includeNames(doc.getText()).find((i) => within(i.range));
    const file = inc && includedFile(doc, inc.name);
    if (file) return { uri: uriOf(file), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
    const d = resolve(p.textDocument.uri, p.position)?.definition;
    return d && shown(d.file) ? located(d.file, d.range) : null;
  }));

  connection.onReferences(guard.wrap(['textDocument', 'position', 'context'], (p) => {
    const r = resolve(p.textDocument.uri, p.position);
    if (!r) return [];
    // this document's first, then by file and place (whichever index found them)
    const here = uriToPath(p.textDocument.uri);
    const rank = (file: string) => (file === here ? '' : file);
    return referencesTo(sources(p.textDocument.uri), r.definition)
      .filter((x) => real(x.file) && (p.context.includeDeclaration || !isDefinition(x, r.definition)))
      .sort((a, b) => (rank(a.file) < rank(b.file) ? -1 : rank(a.file) > rank(b.file) ? 1 : a.range.start.line - b.range.start.line || a.range.start.column - b.range.start.column))
      .map((x) => located(x.file, x.range));
  }));

  connection.onPrepareRename(guard.wrap(['textDocument', 'position'], (p) => {
    const r = resolve(p.textDocument.uri, p.position);
    if (!r || !real(r.definition.file)) return null;
    if (r.definition.made) throw new ResponseError(LSPErrorCodes.RequestFailed, renameProblem([], r.definition, r.definition.name)!);
    return toLsp(r.occurrence.range);
  }));

  connection.onRenameRequest(guard.wrap(['textDocument', 'position', 'newName'], (p): WorkspaceEdit | null => {
    const r = resolve(p.textDocument.uri, p.position);
    if (!r) throw new ResponseError(LSPErrorCodes.RequestFailed, 'there is no label, constant or macro here to rename');
    const d = r.definition;
    if (!real(d.file)) throw new ResponseError(LSPErrorCodes.RequestFailed, `${d.name} is defined in ${d.file.startsWith(BUILTIN_PREFIX) ? "xenolab's built-in " + d.file.slice(BUILTIN_PREFIX.length) : d.file}, not in a file of yours: it cannot be renamed`);
    const indexes = [...sources(p.textDocument.uri)];
    const problem = renameProblem(indexes, d, p.newName);
    if (problem) throw new ResponseError(LSPErrorCodes.RequestFailed, problem);
    const changes: Record<string, TextEdit[]> = {};
    for (const e of renameEdits(indexes, d, p.newName)) (changes[uriOf(e.file)] ??= []).push({ range: toLsp(e.range), newText: e.newText });
    return { changes };
  }));

  connection.onDocumentSymbol(guard.wrap(['textDocument'], (p): DocumentSymbol[] | SymbolInformation[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const a = analysis(doc);
    const path = uriToPath(doc.uri);
    const mine = [...a.index.definitions.values()].filter((d) => d.file === path);
    const top = mine.filter((d) => d.kind !== 'local').map((d): DocumentSymbol => ({
      name: d.name,
      kind: SYMBOL_KIND[d.kind],
      detail: d.value !== undefined ? `0x${d.value.toString(16)}` : undefined,
      range: toLsp(d.range), selectionRange: toLsp(d.range),
      children: mine.filter((c) => c.kind === 'local' && c.parent === d.name).map((c) => ({
        name: c.name.slice(d.name.length), kind: SYMBOL_KIND[c.kind], range: toLsp(c.range), selectionRange: toLsp(c.range),
      })),
    }));
    if (client.symbolTree) return top;
    // a client that takes no tree: one list, each local with its label as container
    return top.flatMap((d) => [
      { name: d.name, kind: d.kind, location: { uri: doc.uri, range: d.range } },
      ...(d.children ?? []).map((c) => ({ name: c.name, kind: c.kind, location: { uri: doc.uri, range: c.range }, containerName: d.name })),
    ]);
  }));

  connection.onCodeAction(guard.wrap(['textDocument', 'range', 'context'], (p): (CodeAction | Command)[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    // all it offers are quick fixes: nothing when the client asks only for other kinds
    const only = p.context.only;
    if (only && !only.some((k) => k === CodeActionKind.Empty || k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`))) return [];
    const a = analysis(doc);
    const path = uriToPath(doc.uri);
    // the findings on a cursor's line, or that a selection overlaps (one that ends where a
    // finding begins, such as at the start of its line, does not)
    const req = { start: { line: p.range.start.line, column: p.range.start.character }, end: { line: p.range.end.line, column: p.range.end.character } };
    const cursor = req.start.line === req.end.line && req.start.column === req.end.column;
    const below = (x: Range['start'], y: Range['start']) => x.line < y.line || (x.line === y.line && x.column < y.column);
    const overlaps = (r: Range) => (cursor ? r.start.line <= req.start.line && req.start.line <= r.end.line : below(req.start, r.end) && below(r.start, req.end));
    const actions: CodeAction[] = [];
    for (const f of a.findings.filter((x) => x.file === path && overlaps(x.range))) {
      for (const fix of f.fixes) {
        const changes: Record<string, TextEdit[]> = {};
        for (const e of fix.edits) (changes[uriOf(e.file)] ??= []).push({ range: toLsp(e.range), newText: e.newText });
        actions.push({
          title: fix.title, kind: CodeActionKind.QuickFix, edit: { changes },
          diagnostics: [{ range: toLsp(f.range), message: f.message, code: f.code, source: 'xenolab' }],
        });
      }
    }
    // a client that takes only commands: each fix is a command the server applies (workspace/applyEdit)
    return client.actionLiterals ? actions : actions.map((a) => Command.create(a.title, APPLY_EDIT, a.edit));
  }));

  // Tokens come from the last analysis (they must not wait for one); when a newer one is
  // published, a client that can is asked to take them again (its names may have changed).
  const tokensFrom = new Map<string, Analysis | undefined>();
  const lastAnalysis = (doc: TextDocument) => {
    const a = analyses.get(doc.uri);
    tokensFrom.set(doc.uri, a);
    return a?.index ?? null;
  };
  connection.languages.semanticTokens.on(guard.wrap(['textDocument'], (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return { data: [] };
    return { data: semanticTokens(uriToPath(doc.uri), doc.getText(), lastAnalysis(doc)) };
  }));
  connection.languages.semanticTokens.onRange(guard.wrap(['textDocument', 'range'], (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return { data: [] };
    // a range that ends at the start of a line does not take that line
    const last = p.range.end.character === 0 && p.range.end.line > p.range.start.line ? p.range.end.line - 1 : p.range.end.line;
    return { data: semanticTokens(uriToPath(doc.uri), doc.getText(), lastAnalysis(doc), { first: p.range.start.line, last }) };
  }));
  /** After a publish: the tokens given for the document came from an older analysis. */
  const refreshTokens = (doc: TextDocument, a: Analysis) => {
    if (!client.tokensRefresh || !tokensFrom.has(doc.uri) || tokensFrom.get(doc.uri) === a) return;
    tokensFrom.delete(doc.uri);
    void connection.languages.semanticTokens.refresh();
  };

  // ---- settings pulled from the client, the workspace's files ----

  /** Until initialize: a client that can do nothing. */
  let client: ClientInfo = clientOf({ processId: null, rootUri: null, capabilities: {} });
  /** The rules of initializationOptions: what applies when the client's settings have none. */
  let initialRules: AnalysisOptions['rules'];

  async function pullConfiguration(): Promise<void> {
    try {
      const [settings] = (await connection.workspace.getConfiguration([{ section: 'xenolab' }])) as ({ rules?: AnalysisOptions['rules'] } | null)[];
      configure(settings?.rules ?? initialRules);
    } catch {
      // the client could not answer: the settings stay as they are
    }
  }

  const workspace = new WorkspaceIndex((path) => {
    const text = openAt(path)?.getText() ?? files.readText(path);
    const reads = new Set<string>();
    return text === null ? null : { index: buildIndex(assembleFor(path, text, recording(reads))), reads };
  }, (index) => {
    // a file's own index is no includer of it (its first file is the one indexed)
    const root = index.files.keys().next().value;
    includerAppeared(index.files.keys(), root === undefined ? undefined : uriOf(root));
  });
  /** The source files of `folders` (as the host lists them) join the workspace index, built in the background. */
  const indexFolders = (folders: readonly string[]) => {
    if (!files.listFiles) return;
    for (const folder of folders) workspace.add(files.listFiles(folder, SOURCE_EXTENSIONS, MAX_WORKSPACE_FILES));
    indexInBackground();
  };
  /** Builds the workspace's indexes a few at a time between messages (one chain of timers at a time). */
  let indexing = false;
  const indexInBackground = () => {
    if (indexing) return;
    indexing = true;
    const next = () => {
      if (workspace.step(4)) setTimeout(next, 0);
      else indexing = false;
    };
    setTimeout(next, 0);
  };
  documents.onDidChangeContent((e) => workspace.changed(uriToPath(e.document.uri)));
  documents.onDidClose((e) => workspace.changed(uriToPath(e.document.uri)));

  connection.onInitialized(() => {
    if (client.dynamic) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'xenolab' });
    if (client.watch) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: WATCHED_FILES }] });
    if (client.pull) void pullConfiguration();
    indexFolders(client.folders);
    // folders added or removed later: their files join or leave the index
    if (client.folderChanges) {
      connection.workspace.onDidChangeWorkspaceFolders((e) => {
        const removed = e.removed.map((f) => uriToPath(f.uri));
        const added = e.added.map((f) => uriToPath(f.uri)).filter((p) => p.startsWith('/'));
        client.folders = [...client.folders.filter((f) => !removed.includes(f)), ...added];
        for (const f of removed) for (const p of workspace.paths()) if (p.startsWith(f.endsWith('/') ? f : `${f}/`)) workspace.remove(p);
        indexFolders(added);
        // an include an open document could not find may be in a folder added
        for (const d of documents.all()) reanalyse(d.uri);
      });
    }
  });

  connection.onWorkspaceSymbol(guard.wrap(['query'], (p): SymbolInformation[] => workspaceSymbols(sources(), p.query).map((d) => ({
    name: d.name, kind: SYMBOL_KIND[d.kind], location: located(d.file, d.range), containerName: d.parent,
  }))));

  // ---- signature help, folding, inlay hints, formatting, code lenses ----

  connection.onSignatureHelp(guard.wrap(['textDocument', 'position'], (p): SignatureHelp | null => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const line = doc.getText({ start: { line: p.position.line, character: 0 }, end: p.position });
    const s = macroSignatureAt(line, analyses.get(doc.uri)?.index ?? null); // the last analysis, as completion
    if (!s) return null;
    return {
      signatures: [{ label: s.label, documentation: s.documentation, parameters: s.parameters.map((label) => ({ label: client.labelOffsets ? label : s.label.slice(label[0], label[1]) })) }],
      activeSignature: 0, activeParameter: s.activeParameter,
    };
  }));

  connection.onFoldingRanges(guard.wrap(['textDocument'], (p): FoldingRange[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    return foldingRanges(doc.getText()).map((f) => ({ startLine: f.startLine, endLine: f.endLine, kind: f.kind === 'comment' ? FoldingRangeKind.Comment : undefined }));
  }));

  connection.languages.inlayHint.on(guard.wrap(['textDocument', 'range'], (p): InlayHint[] => {
    const doc = documents.get(p.textDocument.uri);
    const context = doc && analysis(doc).context;
    if (!context) return [];
    return inlayHints(context, p.range.start.line, p.range.end.line).map((h) => ({
      position: { line: h.position.line, character: h.position.column }, label: h.label, tooltip: h.tooltip, paddingLeft: true,
      kind: h.kind === 'hypercall' ? InlayHintKind.Parameter : InlayHintKind.Type,
    }));
  }));

  const format = (uri: string, o: FormattingOptions, first?: number, last?: number): TextEdit[] => {
    const doc = documents.get(uri);
    if (!doc) return [];
    return formatDocument(doc.getText(), o, first, last).map((e) => ({ range: toLsp(e.range), newText: e.newText }));
  };
  connection.onDocumentFormatting(guard.wrap(['textDocument', 'options'], (p) => format(p.textDocument.uri, p.options)));
  connection.onDocumentRangeFormatting(guard.wrap(['textDocument', 'range', 'options'], (p) => {
    const { start, end } = p.range;
    return format(p.textDocument.uri, p.options, start.line, end.character === 0 && end.line > start.line ? end.line - 1 : end.line);
  }));

  connection.onCodeLens(guard.wrap(['textDocument'], (p): CodeLens[] => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const a = analysis(doc);
    if (!a.context) return [];
    const counts = (defs: readonly Definition[]) => {
      const refs = referencesOf(sources(doc.uri), defs);
      return new Map(defs.map((d) => [d.name, (refs.get(d.name) ?? []).filter((o) => !isDefinition(o, d)).length]));
    };
    return codeLenses(a.context, a.index, uriToPath(doc.uri), counts).map((l) => ({ range: toLsp(l.range), command: { title: l.title, command: SHOW_LENS } }));
  }));

  connection.onExecuteCommand(guard.wrap([], async (p: { command?: unknown; arguments?: unknown[] }) => {
    if (p?.command === SHOW_LENS) return null; // a code lens only shows something
    if (p?.command !== APPLY_EDIT) throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${String(p?.command)}`);
    const edit = p.arguments?.[0] as WorkspaceEdit | undefined;
    if (!edit || typeof edit !== 'object') throw new ResponseError(ErrorCodes.InvalidParams, `${APPLY_EDIT} takes the workspace edit to apply`);
    const r = await connection.workspace.applyEdit(edit);
    if (!r.applied) throw new ResponseError(LSPErrorCodes.RequestFailed, `the editor did not apply the fix${r.failureReason ? `: ${r.failureReason}` : ''}`);
    return null;
  }));

  documents.listen(connection);
  connection.listen();
}

/** Commands the server carries out (workspace/executeCommand): apply a fix's edit; a code lens's (nothing: it shows a count). */
const APPLY_EDIT = 'xenolab.applyFix';
const SHOW_LENS = 'xenolab.lens';

/** A hover's markdown as plain text: no code fences, emphasis or backticks. */
function plainText(markdown: string): string {
  return markdown.split('\n').filter((l) => !l.startsWith('```')).join('\n').replace(/\*\*|`/g, '');
}

/** What the client can do, from its initialize request. */
interface ClientInfo {
  /** It answers workspace/configuration. */
  pull: boolean;
  /** didChangeConfiguration can be registered dynamically. */
  dynamic: boolean;
  /** It watches files for the server when asked (didChangeWatchedFiles, registered dynamically). */
  watch: boolean;
  /** Workspace folders on the file system. */
  folders: string[];
  /** It takes semantic tokens again when asked (workspace/semanticTokens/refresh). */
  tokensRefresh: boolean;
  /** It tells of workspace folders added and removed (workspace/didChangeWorkspaceFolders). */
  folderChanges: boolean;
  /** It opens built-in files (initializationOptions.builtinFiles). */
  builtinFiles: boolean;
  /** Completion items may be snippets. */
  snippets: boolean;
  /** Hovers may be markdown. */
  markdown: boolean;
  /** Document symbols may be a tree (else a flat list). */
  symbolTree: boolean;
  /** Signature parameters may be offsets into the label (else their text). */
  labelOffsets: boolean;
  /** Code actions may be literals (else commands, which the server applies). */
  actionLiterals: boolean;
}

function clientOf(p: InitializeParams): ClientInfo {
  const folders = p.workspaceFolders ?? (p.rootUri ? [{ uri: p.rootUri }] : []);
  const text = p.capabilities.textDocument;
  return {
    builtinFiles: (p.initializationOptions as InitializationOptions | null | undefined)?.builtinFiles === true,
    snippets: text?.completion?.completionItem?.snippetSupport === true,
    markdown: text?.hover?.contentFormat?.includes('markdown') === true,
    symbolTree: text?.documentSymbol?.hierarchicalDocumentSymbolSupport === true,
    labelOffsets: text?.signatureHelp?.signatureInformation?.parameterInformation?.labelOffsetSupport === true,
    actionLiterals: text?.codeAction?.codeActionLiteralSupport !== undefined,
    pull: p.capabilities.workspace?.configuration === true,
    dynamic: p.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true,
    watch: p.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true,
    folders: folders.map((f) => uriToPath(f.uri)).filter((path) => path.startsWith('/')),
    tokensRefresh: p.capabilities.workspace?.semanticTokens?.refreshSupport === true,
    folderChanges: p.capabilities.workspace?.workspaceFolders === true,
  };
}
