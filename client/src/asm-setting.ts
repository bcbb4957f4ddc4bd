// Applies `xenolab.associateAsm` (see asm-association.ts) at activation and whenever it
// changes, at each settings level where it is set.

import * as vscode from 'vscode';
import { asmAssociations, type Associations } from './asm-association.js';

const SETTING = 'xenolab.associateAsm';

export function watchAsmAssociation(context: vscode.ExtensionContext): void {
  void apply();
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SETTING)) void apply();
  }));
}

async function apply(): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const setting = config.inspect<boolean>(SETTING);
  const associations = config.inspect<Associations>('files.associations');
  const levels = [
    { target: vscode.ConfigurationTarget.Global, enabled: setting?.globalValue, current: associations?.globalValue },
    { target: vscode.ConfigurationTarget.Workspace, enabled: setting?.workspaceValue, current: associations?.workspaceValue },
  ];
  for (const level of levels) {
    // Only where it is set, true or false: an association the user made by hand elsewhere stays.
    if (level.enabled === undefined) continue;
    const next = asmAssociations(level.current, level.enabled);
    if (next !== null) await config.update('files.associations', next, level.target);
  }
}
