// The debug toolbar and its keys (VS Code's: F5, Shift+F5, F6, F10, F11, Shift+F11; step
// back and reverse continue have no default key there, so none here either).

import { action, replace } from '../../../client/webview/dom.js';
import type { Monaco } from '../monaco.js';
import type { editor } from 'monaco-editor/editor/editor.api.js';
import type { RunState, StepCommand } from './session.js';

export type ToolbarCommand = 'run' | 'stop' | StepCommand;

interface Button { command: ToolbarCommand; title: string; icon: string; key?: number; when: RunState[] }

export function buttons(monaco: Monaco): Button[] {
  const { KeyCode: K, KeyMod: M } = monaco;
  const stopped: RunState[] = ['stopped'];
  return [
    { command: 'run', title: 'Run (F5)', icon: 'debug-start', key: K.F5, when: ['idle', 'ended'] },
    { command: 'continue', title: 'Continue (F5)', icon: 'debug-continue', key: K.F5, when: stopped },
    { command: 'pause', title: 'Pause (F6)', icon: 'debug-pause', key: K.F6, when: ['running'] },
    { command: 'next', title: 'Step Over (F10)', icon: 'debug-step-over', key: K.F10, when: stopped },
    { command: 'stepIn', title: 'Step Into (F11)', icon: 'debug-step-into', key: K.F11, when: stopped },
    { command: 'stepOut', title: 'Step Out (Shift+F11)', icon: 'debug-step-out', key: M.Shift | K.F11, when: stopped },
    { command: 'stepBack', title: 'Step Back', icon: 'debug-step-back', when: stopped },
    { command: 'reverseContinue', title: 'Reverse Continue', icon: 'debug-reverse-continue', when: stopped },
    { command: 'stop', title: 'Stop (Shift+F5)', icon: 'debug-stop', key: M.Shift | K.F5, when: ['running', 'stopped'] },
  ];
}

export class Toolbar {
  private readonly list: Button[];

  constructor(monaco: Monaco, private readonly root: HTMLElement, editor: editor.IStandaloneCodeEditor, run: (c: ToolbarCommand) => void) {
    this.list = buttons(monaco);
    const doc = root.ownerDocument;
    replace(root, ...this.list.map((b) => {
      const el = action(doc, '', b.title, () => run(b.command), `tool codicon codicon-${b.icon}`);
      el.dataset['command'] = b.command;
      el.setAttribute('aria-label', b.title);
      return el;
    }));
    // One key may serve two buttons (F5: run or continue): the enabled one takes it.
    for (const key of new Set(this.list.flatMap((b) => (b.key === undefined ? [] : [b.key])))) {
      editor.addCommand(key, () => {
        const b = this.list.find((x) => x.key === key && this.enabled(x));
        if (b) run(b.command);
      });
    }
    this.update('idle');
  }

  private state: RunState = 'idle';
  private enabled = (b: Button) => b.when.includes(this.state);

  update(state: RunState): void {
    this.state = state;
    for (const el of this.root.querySelectorAll<HTMLButtonElement>('[data-command]')) {
      const b = this.list.find((x) => x.command === el.dataset['command'])!;
      el.disabled = !this.enabled(b);
      // Run and continue share a place: only one of them shows.
      el.hidden = (b.command === 'run' && state === 'stopped') || (b.command === 'continue' && state !== 'stopped');
    }
  }
}
