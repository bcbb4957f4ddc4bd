// Code lenses from the last run of a xenolab session: the adapter's hypercall counts per
// source line (`xen/hypercallSites`), asked for at every stop and as the session ends,
// kept after it ends, and dropped for a document as soon as it is edited (its lines no
// longer match the run). A click opens the Hypercall Profile panel.

import * as vscode from 'vscode';
import { XenRequest, type HypercallSitesBody } from '../../../protocol/src/index.js';
import type { XenSessions } from '../debug/sessions.js';
import { runLenses } from './run-lenses.js';

const SETTING = 'xenolab.lastRun.codeLens';
const PROFILE_COMMAND = 'xenolab.showHypercallProfile';

export function registerRunLenses(context: vscode.ExtensionContext, sessions: XenSessions): void {
  let last: HypercallSitesBody | null = null;
  const edited = new Set<string>();
  const changed = new vscode.EventEmitter<void>();
  const fetch = async (session: vscode.DebugSession) => {
    try {
      last = (await session.customRequest(XenRequest.hypercallSites, {})) as HypercallSitesBody;
      edited.clear();
      changed.fire();
    } catch {
      // the adapter is gone: the counts of its last stop stay
    }
  };
  const provider: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses(document) {
      if (last === null || edited.has(document.uri.fsPath) || !vscode.workspace.getConfiguration().get<boolean>(SETTING, true)) return [];
      return runLenses(last, document.uri.fsPath).map((l) => new vscode.CodeLens(
        document.lineAt(l.line).range,
        { title: l.title, tooltip: l.tooltip, command: PROFILE_COMMAND },
      ));
    },
  };
  context.subscriptions.push(
    changed,
    vscode.languages.registerCodeLensProvider({ language: 'xasm' }, provider),
    sessions.onDidStop(fetch),
    sessions.onWillEnd(fetch),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (last === null || e.contentChanges.length === 0 || edited.has(e.document.uri.fsPath)) return;
      edited.add(e.document.uri.fsPath);
      changed.fire();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SETTING)) changed.fire();
    }),
  );
}
