// The five webview panels: what each asks the adapter at a stop and which model it posts.

import type * as vscode from 'vscode';
import {
  XenRequest, type DomainsBody, type FrameMapBody, type HypercallLogEntry, type PageTablesBody, type RingsBody,
} from '../../../protocol/src/index.js';
import { xenRequest } from './debugSession.js';
import { frameMapModel } from './models/frameMap.js';
import { StopHistory } from './models/history.js';
import { decodeBase64, memoryModel, type MemoryModel, type MemoryRead } from './models/memory.js';
import { GUEST_KERNEL_BASE, memoryReference, SPACE_NAMES, type MemoryLocation } from './models/memoryReference.js';
import { pageTablesModel, type PageTablesModel } from './models/pageTables.js';
import type { FromPanel, PanelKind, PanelModels } from './models/panels.js';
import { profileModel, type ProfileModel } from './models/profile.js';
import { ringsModel } from './models/rings.js';
import { PanelController, type ViewContext } from './panel.js';

/** The first domain, when a panel was opened without one. */
async function firstDomain(session: vscode.DebugSession): Promise<number> {
  const { domains } = await xenRequest(session, XenRequest.domains, {});
  if (domains.length === 0) throw new Error('No domain is left (all were destroyed).');
  return domains[0].id;
}

export class PageTablesPanel extends PanelController<'pageTables'> {
  private domain: number | undefined;
  private readonly open = new Set<number>();
  private readonly bodies = new StopHistory<PageTablesBody>();

  constructor(ctx: ViewContext) {
    super(ctx, 'pageTables');
  }

  protected title(): string {
    return `Page Tables${this.domain !== undefined ? `: dom${this.domain}` : ''}`;
  }

  /** Shows domain `domain`'s page tables (the current one, or the first domain, when absent). */
  async showDomain(domain?: number): Promise<void> {
    if (domain !== undefined && domain !== this.domain) {
      this.domain = domain;
      this.open.clear();
      this.bodies.reset();
    }
    await this.show();
  }

  protected async load(session: vscode.DebugSession, stop: number): Promise<PageTablesModel> {
    this.domain ??= await firstDomain(session);
    const now = await xenRequest(session, XenRequest.pageTables, { domain: this.domain, slots: [...this.open] });
    return pageTablesModel(now, this.bodies.record(stop, now));
  }

  protected reset(): void {
    this.bodies.reset();
  }

  protected override async handle(m: FromPanel): Promise<void> {
    if (m.type !== 'toggleSlot') return;
    if (!this.open.delete(m.slot)) this.open.add(m.slot);
    await this.refresh();
  }
}

export class MemoryPanel extends PanelController<'memory'> {
  private location: MemoryLocation | undefined;
  private count = 256;
  private readonly reads = new StopHistory<MemoryRead>();

  constructor(ctx: ViewContext) {
    super(ctx, 'memory');
  }

  protected title(): string {
    return `Memory${this.location ? `: ${memoryReference(this.location)}` : ''}`;
  }

  /** Shows `location` (the current one, or dom N's first kernel page, when absent). */
  async showAt(location?: MemoryLocation, count?: number): Promise<void> {
    if (location) this.location = location;
    if (count) this.count = count;
    await this.show();
  }

  protected async load(session: vscode.DebugSession, stop: number): Promise<MemoryModel> {
    this.location ??= { space: 'virtual', domain: await firstDomain(session), address: GUEST_KERNEL_BASE };
    const reference = memoryReference(this.location);
    const read = await session.customRequest('readMemory', { memoryReference: reference, count: this.count }) as { data?: string };
    const pages = await xenRequest(session, XenRequest.translate, { memoryReference: reference, count: this.count });
    const now: MemoryRead = { location: this.location, bytes: decodeBase64(read.data), count: this.count, pages };
    return memoryModel(now, this.reads.record(stop, now));
  }

  protected reset(): void {
    this.reads.reset();
  }

  protected override async handle(m: FromPanel): Promise<void> {
    if (m.type !== 'goTo' || !(m.space in SPACE_NAMES)) return;
    this.location = { space: m.space, domain: m.domain, address: m.address };
    this.count = Math.max(16, Math.min(m.count, 65536));
    await this.refresh();
  }
}

/** A panel whose model is one request's body, compared with the previous stop's. */
class BodyPanel<K extends PanelKind, B> extends PanelController<K> {
  private readonly bodies = new StopHistory<B>();

  constructor(ctx: ViewContext, kind: K, private readonly name: string,
    private readonly request: (session: vscode.DebugSession) => Promise<B>,
    private readonly model: (now: B, before?: B) => PanelModels[K]) {
    super(ctx, kind);
  }

  protected title(): string {
    return this.name;
  }

  protected async load(session: vscode.DebugSession, stop: number): Promise<PanelModels[K]> {
    const now = await this.request(session);
    return this.model(now, this.bodies.record(stop, now));
  }

  protected reset(): void {
    this.bodies.reset();
  }
}

export const frameMapPanel = (ctx: ViewContext) =>
  new BodyPanel(ctx, 'frameMap', 'Frame Map', (s) => xenRequest(s, XenRequest.frameMap, {}), (now: FrameMapBody, before?: FrameMapBody) => frameMapModel(now, before));

export const ringsPanel = (ctx: ViewContext) =>
  new BodyPanel(ctx, 'rings', 'I/O Rings', (s) => xenRequest(s, XenRequest.rings, {}), (now: RingsBody, before?: RingsBody) => ringsModel(now, before));

/** The most log entries the profile keeps for its timeline (the adapter's log is bounded too). */
const PROFILE_LOG_LIMIT = 50_000;

export class ProfilePanel extends PanelController<'profile'> {
  private readonly bodies = new StopHistory<DomainsBody>();
  /** The hypercall log read so far, read on from `nextSeq` at each stop. */
  private log: HypercallLogEntry[] = [];
  private nextSeq = 0;

  constructor(ctx: ViewContext) {
    super(ctx, 'profile');
  }

  protected title(): string {
    return 'Hypercall Profile';
  }

  protected async load(session: vscode.DebugSession, stop: number): Promise<ProfileModel> {
    const now = await xenRequest(session, XenRequest.domains, {});
    const more = await xenRequest(session, XenRequest.hypercallLog, { since: this.nextSeq });
    this.log = this.log.concat(more.entries).slice(-PROFILE_LOG_LIMIT);
    this.nextSeq = more.nextSeq;
    return profileModel(now, this.log, this.bodies.record(stop, now));
  }

  protected reset(): void {
    this.bodies.reset();
    this.log = [];
    this.nextSeq = 0;
  }
}
