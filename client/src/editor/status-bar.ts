// The status bar item with the simulated machine's domains: asked for (`xen/domains`) at
// every stop of a xenolab session, "running" while it runs, gone when it ends. A click
// shows the Domains view.

import * as vscode from 'vscode';
import { XenRequest, type DomainsBody } from '../../../protocol/src/index.js';
import { DEBUG_TYPE } from '../debug/configuration.js';
import type { XenSessions } from '../debug/sessions.js';
import { domainsStatus, runningStatus, type StatusText } from './domains-status.js';

const DOMAINS_VIEW_FOCUS = 'xenolab.domains.focus';

export function registerDomainsStatus(context: vscode.ExtensionContext, sessions: XenSessions): void {
  const item = vscode.window.createStatusBarItem('xenolab.domains', vscode.StatusBarAlignment.Left, 10);
  item.name = 'xenolab domains';
  item.command = DOMAINS_VIEW_FOCUS;
  const show = (s: StatusText) => {
    item.text = s.text;
    item.tooltip = new vscode.MarkdownString(s.tooltip);
    item.show();
  };
  let asked = 0;
  context.subscriptions.push(
    item,
    sessions.onDidStop(async (session) => {
      const ask = ++asked;
      try {
        const body = (await session.customRequest(XenRequest.domains, {})) as DomainsBody;
        if (ask === asked) show(domainsStatus(body));
      } catch {
        // the session went away before it answered
      }
    }),
    sessions.onDidResume(() => {
      asked++;
      show(runningStatus());
    }),
    sessions.onDidEnd(() => {
      asked++;
      if (vscode.debug.activeDebugSession?.type !== DEBUG_TYPE) item.hide();
    }),
  );
}
