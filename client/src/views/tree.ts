// The tree views (Domains, Event Channels, Grant Tables): a TreeDataProvider over the
// models' TreeNodes, refreshed on every stop; what changed since the previous stop is
// highlighted (the label, a coloured icon, and a count on its parents).

import * as vscode from 'vscode';
import { StopHistory } from './models/history.js';
import { markChanges, type TreeNode } from './models/tree.js';
import { emptyReason, type StopWatcher } from './debugSession.js';

/** Loads stop `stop`'s nodes from the session. */
export type TreeLoader = (session: vscode.DebugSession, stop: number) => Promise<TreeNode[]>;

export function toTreeItem(n: TreeNode): vscode.TreeItem {
  // A group with nothing in it (no grants yet) gets no arrow: expanding it would show nothing.
  const collapsible = !n.children?.length ? vscode.TreeItemCollapsibleState.None
    : n.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(n.changed ? { label: n.label, highlights: [[0, n.label.length]] } : n.label, collapsible);
  item.id = n.id;
  const below = n.changedBelow ? `${n.changedBelow} changed` : '';
  item.description = [n.description, below].filter(Boolean).join(' · ');
  item.tooltip = [n.tooltip, n.changed ? 'Changed since the previous stop.' : ''].filter(Boolean).join('\n') || undefined;
  if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon, n.changed ? new vscode.ThemeColor('charts.yellow') : undefined);
  if (n.contextValue) item.contextValue = n.contextValue;
  return item;
}

export class XenTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeNode[] = [];
  private readonly history = new StopHistory<TreeNode[]>();
  private sessionId: string | undefined;
  readonly view: vscode.TreeView<TreeNode>;

  constructor(id: string, private readonly stops: StopWatcher, private readonly load: TreeLoader) {
    this.view = vscode.window.createTreeView(id, { treeDataProvider: this, showCollapseAll: true });
  }

  /** Asks the adapter again (on a stop, after an action); a failure shows as the view's message. */
  async refresh(): Promise<void> {
    const { session, state, stop } = this.stops.current;
    if (session?.id !== this.sessionId) {
      this.sessionId = session?.id;
      this.history.reset();
    }
    const reason = emptyReason(state);
    if (session === undefined || reason !== null) {
      this.view.message = reason ?? undefined;
      if (state === 'none') this.roots = [];
      this.changed.fire(undefined);
      return;
    }
    try {
      const nodes = await this.load(session, stop);
      this.roots = markChanges(nodes, this.history.record(stop, nodes));
      this.view.message = this.roots.length ? undefined : 'Nothing here at this stop.';
    } catch (e) {
      this.view.message = e instanceof Error ? e.message : String(e);
    }
    this.changed.fire(undefined);
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    return toTreeItem(n);
  }

  getChildren(n?: TreeNode): TreeNode[] {
    return n ? n.children ?? [] : this.roots;
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
