// The Domains view: the extension's tree nodes (client/src/views/models) as nested lists,
// changed nodes marked as VS Code's tree marks them.

import { html, replace } from '../../../client/webview/dom.js';
import type { TreeNode } from '../../../client/src/views/models/tree.js';

function item(doc: Document, n: TreeNode): HTMLElement {
  const label = html(doc, 'span', { class: n.changed ? 'node changed' : 'node', title: n.tooltip ?? null },
    html(doc, 'span', { class: 'label' }, n.label), n.description ? html(doc, 'span', { class: 'muted' }, ` ${n.description}`) : null);
  if (!n.children?.length) return html(doc, 'li', { 'data-node': n.id }, label);
  return html(doc, 'li', { 'data-node': n.id },
    html(doc, 'details', { open: n.expanded ?? false }, html(doc, 'summary', {}, label), html(doc, 'ul', {}, ...n.children.map((c) => item(doc, c)))));
}

export function renderTree(root: HTMLElement, nodes: TreeNode[]): void {
  const doc = root.ownerDocument;
  replace(root, html(doc, 'ul', { class: 'tree' }, ...nodes.map((n) => item(doc, n))));
}
