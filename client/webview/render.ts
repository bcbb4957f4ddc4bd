// One entry for every panel renderer: what the VS Code webviews' script and the
// playground's page call with the host's messages.

import type { PanelHost, PanelKind, PanelModels, ToPanel } from '../src/views/models/panels.js';
import { html, replace } from './dom.js';
import { renderFrameMap } from './frameMap.js';
import { renderMemory } from './memory.js';
import { renderPageTables } from './pageTables.js';
import { renderProfile } from './profile.js';
import { renderRings } from './rings.js';

export const RENDERERS: { [K in PanelKind]: (root: HTMLElement, model: PanelModels[K], host: PanelHost) => void } = {
  pageTables: renderPageTables,
  memory: renderMemory,
  frameMap: renderFrameMap,
  rings: renderRings,
  profile: renderProfile,
};

/** Shows what the host sent: a panel's model, or why there is none. */
export function renderMessage(root: HTMLElement, message: ToPanel, host: PanelHost): void {
  if (message.type === 'empty') {
    replace(root, html(root.ownerDocument, 'p', { class: 'empty' }, message.message));
    return;
  }
  (RENDERERS[message.panel] as (root: HTMLElement, model: unknown, host: PanelHost) => void)(root, message.model, host);
}
