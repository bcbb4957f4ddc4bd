// The `xenolab` debug type in VS Code: the configuration provider (F5 on a guest with no
// launch.json, settings as defaults, absolute paths) and the adapter, started as its own
// Node process (dist/xenolab-dap.mjs, DAP on stdio). No guest boots in an untrusted
// workspace: both ask for trust first.

import * as vscode from 'vscode';
import { absolutePaths, configurationFor, DEBUG_TYPE, initialConfigurations, isRunnable, resolveLaunch, SIMULATOR_KEYS, SIMULATOR_SECTION, type ActiveFile, type LaunchConfiguration, type SimulatorSettings } from './configuration.js';

export const DEBUG_ADAPTER_BUNDLE = 'dist/xenolab-dap.mjs';

export function registerDebugging(context: vscode.ExtensionContext): void {
  const provider: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations: () => initialConfigurations(),
    async resolveDebugConfiguration(folder, config) {
      if (!(await ensureTrusted())) return undefined;
      const r = resolveLaunch(config, activeFile(), simulatorSettings(folder));
      if (!r.ok) {
        void vscode.window.showErrorMessage(r.message);
        return undefined;
      }
      return r.config;
    },
    resolveDebugConfigurationWithSubstitutedVariables(folder, config) {
      const r = absolutePaths(config as LaunchConfiguration, folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
      if (!r.ok) {
        void vscode.window.showErrorMessage(r.message);
        return undefined;
      }
      return r.config;
    },
  };
  // The Run and Debug view's list offers the guest in the editor, launch.json or not.
  const dynamic: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations() {
      const file = activeFile();
      return isRunnable(file) ? [configurationFor(file)] : [];
    },
  };
  const adapter = context.asAbsolutePath(DEBUG_ADAPTER_BUNDLE);
  const factory: vscode.DebugAdapterDescriptorFactory = {
    async createDebugAdapterDescriptor() {
      if (!(await ensureTrusted())) throw new Error('xenolab runs guests only in a trusted workspace.');
      // The extension host's own Node: Electron's when ELECTRON_RUN_AS_NODE says so, plain Node in code-server.
      return new vscode.DebugAdapterExecutable(process.execPath, [adapter], { env: { ELECTRON_RUN_AS_NODE: '1' } });
    },
  };
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, dynamic, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, factory),
  );
}

/** The file in the active editor, if it is on disk. */
export function activeFile(): ActiveFile | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.uri.scheme === 'file' ? { path: doc.uri.fsPath, languageId: doc.languageId } : undefined;
}

function simulatorSettings(folder: vscode.WorkspaceFolder | undefined): SimulatorSettings {
  const c = vscode.workspace.getConfiguration(SIMULATOR_SECTION, folder?.uri);
  return Object.fromEntries(SIMULATOR_KEYS.map((k) => [k, c.get(k)]));
}

/** Trusted, or the user was asked (a guest is code from the workspace, run with the workspace's files and disk images). */
async function ensureTrusted(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(
    'Running a guest boots code from this workspace and lets it write the disk images it names. xenolab runs guests only in a trusted workspace.',
    { modal: true }, manage);
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return vscode.workspace.isTrusted;
}
