// Inline values while stopped: the registers the current line names, each evaluated by
// the adapter (`eax`, `al`, `cr3`, ... are expressions it knows), shown at the line's end.
// Only the line stopped on: a register's value on an earlier line is not what it was there.

import * as vscode from 'vscode';
import { registerMentions } from './registers.js';

export function registerInlineValues(context: vscode.ExtensionContext): void {
  const provider: vscode.InlineValuesProvider = {
    provideInlineValues(document, _viewport, ctx) {
      const line = ctx.stoppedLocation.start.line;
      if (line >= document.lineCount) return [];
      return registerMentions(document.lineAt(line).text).map((r) => new vscode.InlineValueEvaluatableExpression(new vscode.Range(line, r.start, line, r.end), r.name));
    },
  };
  context.subscriptions.push(vscode.languages.registerInlineValuesProvider({ language: 'xasm' }, provider));
}
