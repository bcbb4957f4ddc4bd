// The views' link to the debugger: the active xenolab debug session, its custom requests
// (names and types from protocol/), and its stops, counted, so every view can tell a new
// stop from a refresh within the same one.

import * as vscode from 'vscode';
import type { XenRequestName, XenRequests } from '../../../protocol/src/index.js';

/** The debug type of xenolab's adapter (package.json `contributes.debuggers`). */
export const XENOLAB_DEBUG_TYPE = 'xenolab';

/** The active debug session when it is a xenolab one. */
export function activeXenSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s?.type === XENOLAB_DEBUG_TYPE ? s : undefined;
}

/** A custom request with its typed arguments and body. */
export async function xenRequest<K extends XenRequestName>(session: vscode.DebugSession, command: K, args: XenRequests[K]['args']): Promise<XenRequests[K]['body']> {
  return (await session.customRequest(command, args)) as XenRequests[K]['body'];
}

export type SessionState = 'none' | 'running' | 'stopped';

/**
 * Watches the xenolab sessions' messages: a `stopped` event is a new stop (numbered), a
 * `continued` event or a resuming request means running. Fires `onDidChange` for both, and
 * when the active session changes or ends.
 */
export class StopWatcher implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly states = new Map<string, { state: SessionState; stop: number }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    const self = this;
    this.disposables.push(
      this.changed,
      vscode.debug.registerDebugAdapterTrackerFactory(XENOLAB_DEBUG_TYPE, {
        createDebugAdapterTracker(session) {
          return {
            onDidSendMessage(m: { type?: string; event?: string }) {
              if (m.type !== 'event') return;
              if (m.event === 'stopped') self.set(session, 'stopped', true);
              else if (m.event === 'continued') self.set(session, 'running');
            },
            onWillReceiveMessage(m: { type?: string; command?: string }) {
              if (m.type === 'request' && RESUMING.has(m.command ?? '')) self.set(session, 'running');
            },
          };
        },
      }),
      vscode.debug.onDidChangeActiveDebugSession(() => this.changed.fire()),
      vscode.debug.onDidTerminateDebugSession((s) => {
        this.states.delete(s.id);
        this.changed.fire();
      }),
    );
  }

  private set(session: vscode.DebugSession, state: SessionState, newStop = false): void {
    const s = this.states.get(session.id) ?? { state: 'none', stop: 0 };
    this.states.set(session.id, { state, stop: s.stop + (newStop ? 1 : 0) });
    this.changed.fire();
  }

  /** The active xenolab session, whether it is stopped, and its stop number (1 for its first stop). */
  get current(): { session: vscode.DebugSession | undefined; state: SessionState; stop: number } {
    const session = activeXenSession();
    const s = session ? this.states.get(session.id) : undefined;
    return { session, state: s?.state ?? (session ? 'running' : 'none'), stop: s?.stop ?? 0 };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Requests after which the machine runs until its next stop. */
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue']);

/** Why a view has nothing to show, or null when it can ask the adapter. */
export function emptyReason(state: SessionState): string | null {
  if (state === 'none') return 'Start a xenolab debug session (F5 on a .xasm file) to see the simulated machine.';
  if (state === 'running') return 'The machine is running: the views show it at the next stop (pause, or a breakpoint).';
  return null;
}
