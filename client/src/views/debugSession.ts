// The views' link to the debugger: the active xenolab debug session, its custom requests
// (names and types from protocol/), and its stops (from debug/sessions.ts), counted, so
// every view can tell a new stop from a refresh within the same one.

import * as vscode from 'vscode';
import type { XenRequestName, XenRequests } from '../../../protocol/src/index.js';
import { DEBUG_TYPE } from '../debug/configuration.js';
import type { XenSessions } from '../debug/sessions.js';

/** The active debug session when it is a xenolab one. */
export function activeXenSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s?.type === DEBUG_TYPE ? s : undefined;
}

/** A custom request with its typed arguments and body. */
export async function xenRequest<K extends XenRequestName>(session: vscode.DebugSession, command: K, args: XenRequests[K]['args']): Promise<XenRequests[K]['body']> {
  return (await session.customRequest(command, args)) as XenRequests[K]['body'];
}

export type SessionState = 'none' | 'running' | 'stopped';

/**
 * The state of each xenolab session as the views need it: stopped (with the stop counted,
 * so a view tells a new stop from a refresh within one), running, or gone. Fires
 * `onDidChange` on each of those and when the active session changes.
 */
export class StopWatcher implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly states = new Map<string, { state: SessionState; stop: number }>();
  private readonly disposables: vscode.Disposable[];

  constructor(sessions: XenSessions) {
    this.disposables = [
      this.changed,
      sessions.onDidStop((s) => this.set(s, 'stopped', true)),
      sessions.onDidResume((s) => this.set(s, 'running')),
      sessions.onDidEnd((s) => {
        this.states.delete(s.id);
        this.changed.fire();
      }),
      vscode.debug.onDidChangeActiveDebugSession(() => this.changed.fire()),
    ];
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

/** Why a view has nothing to show, or null when it can ask the adapter. */
export function emptyReason(state: SessionState): string | null {
  if (state === 'none') return 'Start a xenolab debug session (F5 on a .xasm file) to see the simulated machine.';
  if (state === 'running') return 'The machine is running: the views show it at the next stop (pause, or a breakpoint).';
  return null;
}
