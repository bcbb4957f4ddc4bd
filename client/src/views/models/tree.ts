// The tree panels' model: plain nodes that VS Code's TreeDataProvider and the playground's
// HTML lists both render. Ids are stable across stops, so "what changed since the
// previous stop" is a comparison of two node lists by id.

export interface TreeNode {
  /** Stable across stops (`dom1/vcpu0`): the key of the comparison, and VS Code's TreeItem id. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon name (`vm-running`). */
  icon?: string;
  /** What menus key on (`xenDomain.paused`). */
  contextValue?: string;
  children?: TreeNode[];
  /** Shown expanded at first. */
  expanded?: boolean;
  /** New, or its label or description differs from the previous stop's node of the same id. */
  changed?: boolean;
  /** How many nodes below it changed (so a collapsed node says so). */
  changedBelow?: number;
}

const textOf = (n: TreeNode) => `${n.label}\u0000${n.description ?? ''}`;

function index(nodes: readonly TreeNode[] | undefined, into = new Map<string, string>()): Map<string, string> {
  for (const n of nodes ?? []) {
    into.set(n.id, textOf(n));
    index(n.children, into);
  }
  return into;
}

/**
 * Marks what changed since `previous` (the nodes of the last stop): a node is changed when
 * it is new or its text differs; a parent counts the changed nodes below it. Without a
 * previous stop nothing is marked (everything would be).
 */
export function markChanges(nodes: TreeNode[], previous: readonly TreeNode[] | undefined): TreeNode[] {
  if (previous === undefined) return nodes;
  const before = index(previous);
  const mark = (n: TreeNode): number => {
    const below = (n.children ?? []).reduce((sum, c) => sum + mark(c), 0);
    if (below > 0) n.changedBelow = below;
    n.changed = before.get(n.id) !== textOf(n);
    return below + (n.changed ? 1 : 0);
  };
  nodes.forEach(mark);
  return nodes;
}

/** Every node, depth first (tests and lookups by id). */
export function* walk(nodes: readonly TreeNode[]): Generator<TreeNode> {
  for (const n of nodes) {
    yield n;
    if (n.children) yield* walk(n.children);
  }
}
