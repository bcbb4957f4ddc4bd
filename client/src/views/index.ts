// The "Xen" view container's views and panels: registerViews wires the trees (Domains,
// Event Channels, Grant Tables) and the webview panels (Page Tables, Memory, Frame Map,
// I/O Rings, Hypercall Profile) to the debugger's stops, and registers their commands.

import * as vscode from 'vscode';
import { XenSessions } from '../debug/sessions.js';
import { activeXenSession, StopWatcher } from './debugSession.js';
import { COMMANDS, VIEW_IDS } from './ids.js';
import { runDomainAction, type DomainAction } from './domainActions.js';
import { domainOfNode } from './models/domains.js';
import { GUEST_KERNEL_BASE, parseMemoryReference } from './models/memoryReference.js';
import type { TreeNode } from './models/tree.js';
import type { ViewContext } from './panel.js';
import { frameMapPanel, MemoryPanel, PageTablesPanel, ProfilePanel, ringsPanel } from './panels.js';
import { XenTree } from './tree.js';
import { domainsLoader, eventChannelsLoader, grantTablesLoader } from './trees.js';

/** VS Code's own memory view of a debug session: the hex editor over the adapter's readMemory. */
async function openNativeMemory(reference: string): Promise<void> {
  const session = activeXenSession();
  if (!session) return;
  const uri = vscode.Uri.from({ scheme: 'vscode-debug-memory', authority: session.id, path: `/${encodeURIComponent(reference)}/memory.bin` });
  try {
    await vscode.commands.executeCommand('vscode.openWith', uri, 'hexEditor.hexedit', { preview: false });
  } catch {
    void vscode.window.showInformationMessage("VS Code's memory view needs the Hex Editor extension (ms-vscode.hexeditor).");
  }
}

/**
 * Registers the views, their panels and commands. `sessions` is the extension's follower of
 * xenolab sessions (one is made when none is given).
 */
export function registerViews(context: vscode.ExtensionContext, sessions?: XenSessions): void {
  if (sessions === undefined) context.subscriptions.push((sessions = new XenSessions()));
  const stops = new StopWatcher(sessions);
  let memory: MemoryPanel;
  const ctx: ViewContext = {
    extensionUri: context.extensionUri,
    stops,
    openMemory: async (reference) => {
      const at = parseMemoryReference(reference);
      if (at) await memory.showAt(at);
    },
    openNativeMemory,
  };
  memory = new MemoryPanel(ctx);
  const pageTables = new PageTablesPanel(ctx);
  const panels = [pageTables, memory, frameMapPanel(ctx), ringsPanel(ctx), new ProfilePanel(ctx)] as const;
  const [, , frameMap, rings, profile] = panels;
  const trees = [
    new XenTree(VIEW_IDS.domains, stops, domainsLoader()),
    new XenTree(VIEW_IDS.eventChannels, stops, eventChannelsLoader()),
    new XenTree(VIEW_IDS.grantTables, stops, grantTablesLoader()),
  ];
  const refreshAll = () => Promise.all([...trees.map((t) => t.refresh()), ...panels.map((p) => p.refresh())]);
  const action = (a: DomainAction) => async (node?: TreeNode) => {
    if (await runDomainAction(a, node)) await refreshAll();
  };
  const domainArg = (node?: TreeNode) => (node ? domainOfNode(node) ?? undefined : undefined);
  context.subscriptions.push(
    stops, ...trees, ...panels,
    stops.onDidChange(() => void refreshAll()),
    vscode.commands.registerCommand(COMMANDS.refresh, refreshAll),
    vscode.commands.registerCommand(COMMANDS.pause, action('pause')),
    vscode.commands.registerCommand(COMMANDS.unpause, action('unpause')),
    vscode.commands.registerCommand(COMMANDS.destroy, action('destroy')),
    vscode.commands.registerCommand(COMMANDS.consoleInput, action('consoleInput')),
    vscode.commands.registerCommand(COMMANDS.showPageTables, (node?: TreeNode) => pageTables.showDomain(domainArg(node))),
    vscode.commands.registerCommand(COMMANDS.showMemory, (node?: TreeNode) => {
      const domain = domainArg(node);
      return memory.showAt(domain !== undefined ? { space: 'virtual', domain, address: GUEST_KERNEL_BASE } : undefined);
    }),
    vscode.commands.registerCommand(COMMANDS.showFrameMap, () => frameMap.show()),
    vscode.commands.registerCommand(COMMANDS.showRings, () => rings.show()),
    vscode.commands.registerCommand(COMMANDS.showHypercallProfile, () => profile.show()),
  );
  void refreshAll();
}
