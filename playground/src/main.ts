// The playground page: monaco with the workspace's files in tabs, the language server
// and the debug adapter in web workers, the console and the machine's views beside it.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { editor } from 'monaco-editor/editor/editor.api.js';
import { BUILTIN_SCHEME } from '../../protocol/src/index.js';
import { html, replace } from '../../client/webview/dom.js';
import { Gutter } from './debug/gutter.js';
import { DebugSession, type Stop } from './debug/session.js';
import { Toolbar, type ToolbarCommand } from './debug/toolbar.js';
import { LANGUAGE_ID, registerXasm, THEME } from './language.js';
import { LanguageClient } from './lsp/client.js';
import { MARKS } from './marks.js';
import { monaco } from './monaco.js';
import { clearMachineViews, renderRegisters, renderStack } from './views/machine.js';
import { XenViews } from './views/xen.js';
import { decodeWorkspace, DEFAULT_SEED, encodeWorkspace, fileUri, mainFile, relativeOfUri, type Seeds, type Workspace } from './workspace.js';

const $ = (id: string) => document.getElementById(id)!;


registerXasm(monaco);
const editorView = monaco.editor.create($('editor'), {
  theme: THEME, glyphMargin: true, automaticLayout: true, minimap: { enabled: false }, fontSize: 13,
  'semanticHighlighting.enabled': true, inlayHints: { enabled: 'on' }, fixedOverflowWidgets: true,
});

// ---- the workspace's files ------------------------------------------------------------------

let workspace: Workspace = { files: {}, binary: {} };
const languageOf = (rel: string) => (/\.(xasm|inc|asm)$/.test(rel) ? LANGUAGE_ID : 'plaintext');

function open(rel: string, line?: number): void {
  const model = monaco.editor.getModel(monaco.Uri.parse(fileUri(rel)));
  if (!model) return;
  show(model, rel);
  if (line !== undefined) editorView.revealLineInCenter(line);
}

const viewStates = new WeakMap<editor.ITextModel, editor.ICodeEditorViewState | null>();

/**
 * Puts a model in the editor, its tab selected: a workspace file's (`rel`), or a built-in
 * file's (read-only, in a tab of its own while it is shown).
 */
function show(model: editor.ITextModel, rel: string | null): void {
  const shown = editorView.getModel();
  if (shown !== model) {
    // each file comes back with its cursor and scroll where they were
    if (shown) viewStates.set(shown, editorView.saveViewState());
    editorView.setModel(model);
    const state = viewStates.get(model);
    if (state) editorView.restoreViewState(state);
  }
  editorView.updateOptions({ readOnly: rel === null });
  $('tabs').querySelector('[data-builtin]')?.remove();
  if (rel === null) {
    const name = model.uri.path.replace(/^\//, '');
    $('tabs').append(html(document, 'button', { type: 'button', role: 'tab', class: 'tab', 'data-builtin': name, 'aria-selected': 'true', title: 'built into xenolab (read-only)' }, `${name} (built-in)`));
  }
  for (const tab of $('tabs').querySelectorAll<HTMLElement>('[data-file]')) tab.setAttribute('aria-selected', String(tab.dataset['file'] === rel));
}

function loadWorkspace(ws: Workspace): void {
  session.end();
  for (const m of monaco.editor.getModels()) m.dispose();
  workspace = ws;
  const paths = Object.keys(ws.files).sort();
  for (const rel of paths) {
    const model = monaco.editor.createModel(ws.files[rel]!, languageOf(rel), monaco.Uri.parse(fileUri(rel)));
    // The workspace follows the editor, so a launch or a link takes what is typed.
    model.onDidChangeContent(() => (workspace.files[rel] = model.getValue()));
  }
  replace($('tabs'), ...paths.map((rel) => {
    const tab = html(document, 'button', { type: 'button', role: 'tab', class: 'tab', 'data-file': rel }, rel);
    tab.addEventListener('click', () => open(rel));
    return tab;
  }));
  const first = mainFile(ws);
  if (first) open(first);
}

// Go to definition into another file of the workspace opens its tab.
// A place in a built-in file (xen.inc) shows it read-only; the language client made its model.
monaco.editor.registerEditorOpener({
  openCodeEditor(_source, resource, selection) {
    const builtin = resource.scheme === BUILTIN_SCHEME ? monaco.editor.getModel(resource) : null;
    if (resource.scheme === BUILTIN_SCHEME && !builtin) return false;
    if (builtin) show(builtin, null);
    else open(relativeOfUri(resource.toString()));
    if (selection) {
      const range = 'startLineNumber' in selection ? selection : new monaco.Range(selection.lineNumber, selection.column, selection.lineNumber, selection.column);
      editorView.setSelection(range);
      editorView.revealRangeInCenter(range);
    }
    return true;
  },
});

// ---- debugging --------------------------------------------------------------------------------

const consoleView = $('console');
const xen = new XenViews($('domains'), $('panel-tabs'), $('panel'));
let lastStop: Stop | undefined;

const session = new DebugSession('xenolab-dap-worker.js', {
  state(state, detail) {
    toolbar?.update(state);
    $('status').textContent = state === 'idle' ? '' : `${state}${detail ? `: ${detail}` : ''}`;
    document.body.dataset['debugState'] = state;
    if (state !== 'stopped') gutter.showCurrent(null);
    if (state === 'running') xen.running();
  },
  stopped(stop) {
    const before = lastStop?.registers;
    lastStop = stop;
    renderRegisters($('registers'), stop.registers, before);
    renderStack($('stack'), stop.frames, showFrame);
    if (stop.frames[0]) showFrame(stop.frames[0]);
    performance.mark(MARKS.stopped, { detail: stop.index });
    if (session.adapter) void xen.refresh(session.adapter, stop.index);
  },
  console(text) {
    consoleView.append(text);
    consoleView.scrollTop = consoleView.scrollHeight;
  },
});

function showFrame(f: DebugProtocol.StackFrame): void {
  const path = f.source?.path;
  if (!path?.startsWith('/workspace/')) return gutter.showCurrent(null);
  open(relativeOfUri(`file://${path}`));
  gutter.showCurrent(f.line);
}

const gutter = new Gutter(monaco, editorView, (rel, lines) => void session.sendBreakpoints(rel, lines));

async function run(command: ToolbarCommand): Promise<void> {
  try {
    if (command === 'stop') return session.end();
    if (command !== 'run') return await session.step(command);
    consoleView.textContent = '';
    lastStop = undefined;
    clearMachineViews($('registers'), $('stack'));
    xen.reset();
    const active = editorView.getModel();
    await session.launch(workspace, active ? relativeOfUri(active.uri.toString()) : undefined, gutter.all());
  } catch (e) {
    $('status').textContent = e instanceof Error ? e.message : String(e);
  }
}

const toolbar: Toolbar = new Toolbar(monaco, $('debug-toolbar'), editorView, (c) => void run(c));

// ---- seeds, links, and the language server ----------------------------------------------------

async function start(): Promise<void> {
  const seeds = (await (await fetch('seeds.json')).json()) as Seeds;
  const picker = $('seed') as HTMLSelectElement;
  const shared = await decodeWorkspace(location.hash);
  replace(picker, ...(shared ? [html(document, 'option', { value: '' }, '(shared link)')] : []),
    ...Object.keys(seeds).map((name) => html(document, 'option', { value: name, selected: !shared && name === DEFAULT_SEED }, name)));
  picker.addEventListener('change', () => {
    const seed = seeds[picker.value];
    if (!seed) return;
    history.replaceState(null, '', location.pathname);
    loadWorkspace(structuredClone(seed));
  });
  loadWorkspace(shared ?? structuredClone(seeds[DEFAULT_SEED]!));

  $('share').addEventListener('click', () => void (async () => {
    const url = `${location.origin}${location.pathname}#${await encodeWorkspace(workspace)}`;
    history.replaceState(null, '', url);
    await navigator.clipboard?.writeText(url).catch(() => undefined);
    $('status').textContent = `link copied (${url.length.toLocaleString()} characters)`;
  })());

  const lsp = new LanguageClient(monaco, new Worker('xenolab-lsp-worker.js', { name: 'xenolab language server' }));
  let first = true;
  lsp.onDiagnostics(() => {
    if (first) performance.mark(MARKS.firstDiagnostics);
    first = false;
  });
  await lsp.start();
}

void start().catch((e: unknown) => ($('status').textContent = `could not start: ${e instanceof Error ? e.message : String(e)}`));

/** The editor and monaco's API, for tests driving the page (they read markers and lay out clicks). */
(window as unknown as { xenolab: { editor: editor.IStandaloneCodeEditor; monaco: typeof monaco } }).xenolab = { editor: editorView, monaco };
