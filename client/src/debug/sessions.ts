// The xenolab debug sessions as the editor integration follows them (status bar, code
// lenses): when one stops, when it runs again, when it is about to end (its `terminated`
// event, while the adapter still answers: a run without debugging never stops, so that is
// the last moment to ask it anything), and when it is gone.

import * as vscode from 'vscode';
import { DEBUG_TYPE } from './configuration.js';

/** Requests after which the machine runs until its next stop. */
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue']);

export class XenSessions implements vscode.Disposable {
  private readonly stopped = new vscode.EventEmitter<vscode.DebugSession>();
  private readonly resumed = new vscode.EventEmitter<vscode.DebugSession>();
  private readonly ending = new vscode.EventEmitter<vscode.DebugSession>();
  private readonly ended = new vscode.EventEmitter<vscode.DebugSession>();
  readonly onDidStop = this.stopped.event;
  readonly onDidResume = this.resumed.event;
  readonly onWillEnd = this.ending.event;
  readonly onDidEnd = this.ended.event;
  private readonly disposables: vscode.Disposable[];

  constructor() {
    this.disposables = [
      this.stopped, this.resumed, this.ending, this.ended,
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => ({
          onDidSendMessage: (m: { type?: string; event?: string }) => {
            if (m.type !== 'event') return;
            if (m.event === 'stopped') this.stopped.fire(session);
            else if (m.event === 'continued') this.resumed.fire(session);
            else if (m.event === 'terminated') this.ending.fire(session);
          },
          onWillReceiveMessage: (m: { type?: string; command?: string }) => {
            if (m.type === 'request' && RESUMING.has(m.command ?? '')) this.resumed.fire(session);
          },
        }),
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.type === DEBUG_TYPE) this.ended.fire(s);
      }),
    ];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
