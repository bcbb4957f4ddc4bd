// The stopped vCPU's registers (a row changed since the previous stop is marked, as the
// side panels mark theirs) and its call stack (a frame's line is shown when clicked).

import type { DebugProtocol } from '@vscode/debugprotocol';
import { html, replace } from '../../../client/webview/dom.js';

export function renderRegisters(table: HTMLElement, now: DebugProtocol.Variable[], before: DebugProtocol.Variable[] | undefined): void {
  const doc = table.ownerDocument;
  const previous = new Map(before?.map((v) => [v.name, v.value]));
  replace(table, html(doc, 'tbody', {}, ...now.map((v) => html(doc, 'tr', { class: before && previous.get(v.name) !== v.value ? 'changed' : '', 'data-register': v.name },
    html(doc, 'th', {}, v.name), html(doc, 'td', { class: 'mono' }, v.value)))));
}

export function renderStack(list: HTMLElement, frames: DebugProtocol.StackFrame[], reveal: (frame: DebugProtocol.StackFrame) => void): void {
  const doc = list.ownerDocument;
  replace(list, ...frames.map((f) => {
    const where = f.source?.name ? `${f.source.name}:${f.line}` : '';
    const item = html(doc, 'li', { class: 'frame', title: where }, html(doc, 'span', {}, f.name), ' ', html(doc, 'span', { class: 'muted' }, where));
    item.addEventListener('click', () => reveal(f));
    return item;
  }));
}

export function clearMachineViews(...roots: HTMLElement[]): void {
  for (const r of roots) replace(r);
}
