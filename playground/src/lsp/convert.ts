// LSP values into monaco's and back: positions are 0-based in LSP and 1-based in monaco,
// and each side names its kinds and severities in its own numbers.

import type * as lsp from 'vscode-languageserver-protocol';
import type { languages, editor, IMarkdownString, IRange, Uri } from 'monaco-editor/editor/editor.api.js';
import type { Monaco } from '../monaco.js';

export const toMonacoRange = (r: lsp.Range): IRange => ({
  startLineNumber: r.start.line + 1, startColumn: r.start.character + 1, endLineNumber: r.end.line + 1, endColumn: r.end.character + 1,
});

export const toLspRange = (r: IRange): lsp.Range => ({
  start: { line: r.startLineNumber - 1, character: r.startColumn - 1 }, end: { line: r.endLineNumber - 1, character: r.endColumn - 1 },
});

export const toLspPosition = (p: { lineNumber: number; column: number }): lsp.Position => ({ line: p.lineNumber - 1, character: p.column - 1 });

export function toMarker(monaco: Monaco, d: lsp.Diagnostic): editor.IMarkerData {
  const S = monaco.MarkerSeverity;
  const severity = [S.Error, S.Error, S.Warning, S.Info, S.Hint][d.severity ?? 1]!;
  return {
    ...toMonacoRange(d.range), severity, message: typeof d.message === 'string' ? d.message : d.message.value, source: d.source,
    ...(d.code !== undefined ? { code: String(d.code) } : {}),
    relatedInformation: d.relatedInformation?.map((r) => ({ resource: monaco.Uri.parse(r.location.uri), message: r.message, ...toMonacoRange(r.location.range) })),
  };
}

export function toMarkdown(contents: lsp.Hover['contents']): IMarkdownString[] {
  const one = (c: lsp.MarkupContent | lsp.MarkedString): IMarkdownString =>
    typeof c === 'string' ? { value: c } : 'kind' in c ? { value: c.kind === 'markdown' ? c.value : `\`\`\`\n${c.value}\n\`\`\`` } : { value: `\`\`\`${c.language}\n${c.value}\n\`\`\`` };
  return Array.isArray(contents) ? contents.map(one) : [one(contents)];
}

/** LSP CompletionItemKind (1-based, in LSP's order) → monaco's. */
function completionKind(monaco: Monaco, kind: lsp.CompletionItemKind | undefined): languages.CompletionItemKind {
  const K = monaco.languages.CompletionItemKind;
  const order = [K.Text, K.Method, K.Function, K.Constructor, K.Field, K.Variable, K.Class, K.Interface, K.Module, K.Property, K.Unit, K.Value,
    K.Enum, K.Keyword, K.Snippet, K.Color, K.File, K.Reference, K.Folder, K.EnumMember, K.Constant, K.Struct, K.Event, K.Operator, K.TypeParameter];
  return order[(kind ?? 1) - 1] ?? K.Text;
}

export function toCompletion(monaco: Monaco, item: lsp.CompletionItem, wordRange: IRange): languages.CompletionItem {
  const edit = item.textEdit;
  const range = edit ? ('range' in edit ? toMonacoRange(edit.range) : { insert: toMonacoRange(edit.insert), replace: toMonacoRange(edit.replace) }) : wordRange;
  const snippet = item.insertTextFormat === 2;
  const doc = item.documentation;
  return {
    label: item.label, kind: completionKind(monaco, item.kind), range,
    insertText: edit?.newText ?? item.insertText ?? item.label,
    ...(snippet ? { insertTextRules: monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet } : {}),
    ...(item.detail !== undefined ? { detail: item.detail } : {}),
    ...(doc !== undefined ? { documentation: typeof doc === 'string' ? doc : { value: doc.value } } : {}),
    ...(item.sortText !== undefined ? { sortText: item.sortText } : {}),
    ...(item.filterText !== undefined ? { filterText: item.filterText } : {}),
  };
}

export const toTextEdit = (e: lsp.TextEdit): languages.TextEdit => ({ range: toMonacoRange(e.range), text: e.newText });

export const toLocation = (monaco: Monaco, l: lsp.Location): languages.Location => ({ uri: monaco.Uri.parse(l.uri), range: toMonacoRange(l.range) });

/** A WorkspaceEdit's text edits, each with the version of the model it was computed on. */
export function toWorkspaceEdit(monaco: Monaco, edit: lsp.WorkspaceEdit, versionOf: (uri: Uri) => number | undefined): languages.WorkspaceEdit {
  const edits: languages.IWorkspaceTextEdit[] = [];
  const add = (uri: string, list: (lsp.TextEdit | lsp.AnnotatedTextEdit | lsp.SnippetTextEdit)[]) => {
    const resource = monaco.Uri.parse(uri);
    for (const e of list) if ('newText' in e) edits.push({ resource, textEdit: toTextEdit(e), versionId: versionOf(resource) });
  };
  for (const [uri, list] of Object.entries(edit.changes ?? {})) add(uri, list);
  for (const c of edit.documentChanges ?? []) if ('edits' in c) add(c.textDocument.uri, c.edits);
  return { edits };
}

export function toInlayHint(monaco: Monaco, h: lsp.InlayHint): languages.InlayHint {
  return {
    label: typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''),
    position: { lineNumber: h.position.line + 1, column: h.position.character + 1 },
    ...(h.kind ? { kind: h.kind === 1 ? monaco.languages.InlayHintKind.Type : monaco.languages.InlayHintKind.Parameter } : {}),
    ...(h.paddingLeft !== undefined ? { paddingLeft: h.paddingLeft } : {}),
    ...(h.paddingRight !== undefined ? { paddingRight: h.paddingRight } : {}),
    ...(typeof h.tooltip === 'string' ? { tooltip: h.tooltip } : h.tooltip ? { tooltip: { value: h.tooltip.value } } : {}),
  };
}

/** An outline entry (LSP's symbol kinds count from 1, monaco's from 0). */
export function toDocumentSymbol(s: lsp.DocumentSymbol): languages.DocumentSymbol {
  return {
    name: s.name, detail: s.detail ?? '', kind: (s.kind - 1) as languages.SymbolKind, tags: [],
    range: toMonacoRange(s.range), selectionRange: toMonacoRange(s.selectionRange), children: (s.children ?? []).map(toDocumentSymbol),
  };
}

export function toFoldingRange(monaco: Monaco, f: lsp.FoldingRange): languages.FoldingRange {
  return { start: f.startLine + 1, end: f.endLine + 1, ...(f.kind === 'comment' ? { kind: monaco.languages.FoldingRangeKind.Comment } : {}) };
}

