// The Xen views at each stop: the Domains tree and one of the Page Tables, Frame Map and
// I/O Rings panels, with the extension's view models and webview renderers; only the
// host (which request, which panel is shown) is the playground's.

import {
  XenRequest, type DomainsBody, type FrameMapBody, type PageTablesBody, type RingsBody,
} from '../../../protocol/src/index.js';
import { domainsTree } from '../../../client/src/views/models/domains.js';
import { frameMapModel } from '../../../client/src/views/models/frameMap.js';
import { StopHistory } from '../../../client/src/views/models/history.js';
import { pageTablesModel } from '../../../client/src/views/models/pageTables.js';
import type { FromPanel, PanelKind, ToPanel } from '../../../client/src/views/models/panels.js';
import { ringsModel } from '../../../client/src/views/models/rings.js';
import { markChanges, type TreeNode } from '../../../client/src/views/models/tree.js';
import { action, replace } from '../../../client/webview/dom.js';
import { renderMessage } from '../../../client/webview/render.js';
import type { DapClient } from '../debug/client.js';
import { renderTree } from './tree.js';

/** The panels the playground shows, in tab order. */
export const PANELS = { rings: 'I/O Rings', frameMap: 'Frame Map', pageTables: 'Page Tables' } as const satisfies Partial<Record<PanelKind, string>>;
type ShownPanel = keyof typeof PANELS;

export class XenViews {
  private panel: ShownPanel = 'rings';
  private adapter: DapClient | null = null;
  private stop = 0;
  private nodes: TreeNode[] | undefined;
  private readonly openSlots = new Set<number>();
  private readonly domains = new StopHistory<DomainsBody>();
  private readonly pageTables = new StopHistory<PageTablesBody>();
  private readonly frameMap = new StopHistory<FrameMapBody>();
  private readonly rings = new StopHistory<RingsBody>();

  constructor(private readonly tree: HTMLElement, private readonly tabs: HTMLElement, private readonly root: HTMLElement) {
    const doc = tabs.ownerDocument;
    replace(tabs, ...Object.entries(PANELS).map(([kind, title]) => {
      const b = action(doc, title, `Show ${title}`, () => void this.show(kind as ShownPanel), 'tab');
      b.dataset['panel'] = kind;
      return b;
    }));
    this.markTab();
    this.empty('Run the guest: the views fill in at each stop.');
  }

  /** A new session: nothing to compare with. */
  reset(): void {
    this.nodes = undefined;
    this.openSlots.clear();
    for (const h of [this.domains, this.pageTables, this.frameMap, this.rings]) h.reset();
  }

  async refresh(adapter: DapClient, stop: number): Promise<void> {
    this.adapter = adapter;
    this.stop = stop;
    const now = await adapter.request<DomainsBody>(XenRequest.domains, {});
    this.nodes = markChanges(domainsTree(now, this.domains.record(stop, now)), this.nodes);
    renderTree(this.tree, this.nodes);
    await this.load();
  }

  /** While the machine runs, the last stop's pictures stay. */
  running(): void {
    this.tree.classList.add('stale');
    this.root.classList.add('stale');
  }

  private async show(panel: ShownPanel): Promise<void> {
    this.panel = panel;
    this.markTab();
    if (this.adapter) await this.load();
  }

  private markTab(): void {
    for (const b of this.tabs.querySelectorAll<HTMLElement>('[data-panel]')) b.setAttribute('aria-selected', String(b.dataset['panel'] === this.panel));
  }

  private async load(): Promise<void> {
    const a = this.adapter!, stop = this.stop;
    this.tree.classList.remove('stale');
    this.root.classList.remove('stale');
    try {
      if (this.panel === 'rings') {
        const now = await a.request<RingsBody>(XenRequest.rings, {});
        this.post({ type: 'model', panel: 'rings', model: ringsModel(now, this.rings.record(stop, now)) });
      } else if (this.panel === 'frameMap') {
        const now = await a.request<FrameMapBody>(XenRequest.frameMap, {});
        this.post({ type: 'model', panel: 'frameMap', model: frameMapModel(now, this.frameMap.record(stop, now), 64) });
      } else {
        const { domains } = await a.request<DomainsBody>(XenRequest.domains, {});
        if (!domains[0]) return this.empty('No domain is left.');
        const now = await a.request<PageTablesBody>(XenRequest.pageTables, { domain: domains[0].id, slots: [...this.openSlots] });
        this.post({ type: 'model', panel: 'pageTables', model: pageTablesModel(now, this.pageTables.record(stop, now)) });
      }
    } catch (e) {
      this.empty(e instanceof Error ? e.message : String(e));
    }
  }

  private empty(message: string): void {
    this.post({ type: 'empty', message });
  }

  private post(message: ToPanel): void {
    renderMessage(this.root, message, { post: (m) => void this.receive(m) });
  }

  /** What a panel asks back: the page tables open and close a directory slot. */
  private async receive(m: FromPanel): Promise<void> {
    if (m.type !== 'toggleSlot') return;
    if (!this.openSlots.delete(m.slot)) this.openSlots.add(m.slot);
    await this.load();
  }
}
