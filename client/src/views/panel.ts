// A webview panel's host: creates the panel (one per kind, revealed again when asked),
// posts its model at every stop, and answers what the panel asks. Subclasses say what a
// stop's model is and handle their own requests.

import * as vscode from 'vscode';
import { emptyReason, type StopWatcher } from './debugSession.js';
import { PANEL_VIEW_TYPES } from './ids.js';
import type { FromPanel, PanelKind, PanelModels, ToPanel } from './models/panels.js';
import { webviewHtml, webviewOptions } from './webviewHtml.js';

/** What the panels share: the extension's files, the stops, and the memory panel. */
export interface ViewContext {
  readonly extensionUri: vscode.Uri;
  readonly stops: StopWatcher;
  /** Shows a memory reference in the Memory panel. */
  openMemory(reference: string): Promise<void>;
  /** Shows a memory reference in VS Code's own memory view (the hex editor over readMemory). */
  openNativeMemory(reference: string, count?: number): Promise<void>;
}

export abstract class PanelController<K extends PanelKind> implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private sessionId: string | undefined;
  /** The last message posted (posted again when the panel says it is ready). */
  private last: ToPanel | undefined;

  constructor(protected readonly ctx: ViewContext, readonly kind: K) {}

  protected abstract title(): string;
  /** The model at stop `stop` (the previous stop's data is the subclass's to keep). */
  protected abstract load(session: vscode.DebugSession, stop: number): Promise<PanelModels[K]>;
  /** A new debug session: forget what was kept from the last one. */
  protected abstract reset(): void;

  /** Opens the panel (or brings it forward) and fills it. */
  async show(): Promise<void> {
    if (this.panel) this.panel.reveal(undefined, true);
    else {
      const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPES[this.kind], this.title(), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(this.ctx.extensionUri));
      panel.webview.html = webviewHtml(panel.webview, this.ctx.extensionUri, this.kind, this.title());
      panel.webview.onDidReceiveMessage((m: FromPanel) => void this.receive(m));
      panel.onDidDispose(() => (this.panel = undefined));
      this.panel = panel;
    }
    await this.refresh();
  }

  get visible(): boolean {
    return this.panel !== undefined;
  }

  /** Asks the adapter again and posts the model (or why there is none). */
  async refresh(): Promise<void> {
    if (!this.panel) return;
    this.panel.title = this.title();
    const { session, state, stop } = this.ctx.stops.current;
    if (session?.id !== this.sessionId) {
      this.sessionId = session?.id;
      this.reset();
    }
    const reason = emptyReason(state);
    if (session === undefined || reason !== null) {
      // While running, the last stop's picture stays (it says so in the title).
      if (state === 'running' && this.last?.type === 'model') this.panel.title = `${this.title()} (running)`;
      else this.post({ type: 'empty', message: reason ?? '' });
      return;
    }
    try {
      this.post({ type: 'model', panel: this.kind, model: await this.load(session, stop) } as ToPanel);
    } catch (e) {
      this.post({ type: 'empty', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private post(message: ToPanel): void {
    this.last = message;
    void this.panel?.webview.postMessage(message);
  }

  private async receive(m: FromPanel): Promise<void> {
    if (m.type === 'ready') {
      if (this.last) void this.panel?.webview.postMessage(this.last);
    } else if (m.type === 'openMemory') await this.ctx.openMemory(m.reference);
    else if (m.type === 'openNativeMemoryView') await this.ctx.openNativeMemory(m.reference);
    else await this.handle(m);
  }

  /** The panel's own requests. */
  protected async handle(_m: FromPanel): Promise<void> {}

  dispose(): void {
    this.panel?.dispose();
  }
}
