// The VS Code extension's entry point: the language server and the debug adapter as
// processes of their own, the editor integration while debugging, the commands, and the
// Xen side panels (views/). Everything it registers goes into the context's subscriptions.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { watchAsmAssociation } from './asm-setting.js';
import { registerCommands } from './commands.js';
import { registerDebugging } from './debug/adapter.js';
import { XenSessions } from './debug/sessions.js';
import { registerInlineValues } from './editor/inline-values.js';
import { registerRunLenses } from './editor/run-lens-provider.js';
import { registerDomainsStatus } from './editor/status-bar.js';
import { startLanguageClient } from './language-client.js';
import { registerViews } from './views/index.js';

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  client = startLanguageClient(context);
  registerDebugging(context);
  const sessions = new XenSessions();
  context.subscriptions.push(sessions);
  registerDomainsStatus(context, sessions);
  registerRunLenses(context, sessions);
  registerInlineValues(context);
  registerCommands(context);
  watchAsmAssociation(context);
  registerViews(context, sessions);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
