// Breakpoints in the editor's glyph margin (a click toggles one; they follow edits as
// decorations do) and the highlight of the line the stopped vCPU is at.

import type { editor } from 'monaco-editor/editor/editor.api.js';
import type { Monaco } from '../monaco.js';
import { relativeOfUri } from '../workspace.js';

export class Gutter {
  /** Decoration ids of each model's breakpoints, by model URI. */
  private readonly breakpoints = new Map<string, string[]>();
  private current: editor.IEditorDecorationsCollection;

  constructor(private readonly monaco: Monaco, private readonly editor: editor.IStandaloneCodeEditor, private readonly changed: (rel: string, lines: number[]) => void) {
    this.current = editor.createDecorationsCollection();
    editor.onMouseDown((e) => {
      const T = monaco.editor.MouseTargetType;
      if ((e.target.type === T.GUTTER_GLYPH_MARGIN || e.target.type === T.GUTTER_LINE_NUMBERS) && e.target.position) this.toggle(e.target.position.lineNumber);
    });
  }

  /** Toggles a breakpoint on `line` of the model in the editor. */
  toggle(line: number): void {
    const model = this.editor.getModel();
    if (!model || model.uri.scheme !== 'file') return; // not in a built-in file (no workspace file of the run)
    const lines = this.linesOf(model);
    const next = lines.includes(line) ? lines.filter((l) => l !== line) : [...lines, line].sort((a, b) => a - b);
    this.set(model, next);
  }

  /** Every file's breakpoint lines, by path relative to the workspace. */
  all(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const model of this.monaco.editor.getModels()) {
      const lines = this.linesOf(model);
      if (lines.length) out.set(relativeOfUri(model.uri.toString()), lines);
    }
    return out;
  }

  /** Highlights `line` of the model in the editor (none when null). */
  showCurrent(line: number | null): void {
    this.current.set(line === null ? [] : [{
      range: new this.monaco.Range(line, 1, line, 1),
      options: { isWholeLine: true, className: 'current-line', glyphMarginClassName: 'current-line-glyph', stickiness: 1 },
    }]);
    if (line !== null) this.editor.revealLineInCenterIfOutsideViewport(line);
  }

  private linesOf(model: editor.ITextModel): number[] {
    const ids = this.breakpoints.get(model.uri.toString()) ?? [];
    return [...new Set(ids.map((id) => model.getDecorationRange(id)?.startLineNumber).filter((l): l is number => l !== undefined))].sort((a, b) => a - b);
  }

  private set(model: editor.ITextModel, lines: number[]): void {
    const uri = model.uri.toString();
    const ids = model.deltaDecorations(this.breakpoints.get(uri) ?? [], lines.map((line) => ({
      range: new this.monaco.Range(line, 1, line, 1),
      options: { glyphMarginClassName: 'breakpoint', glyphMarginHoverMessage: { value: 'Breakpoint' }, stickiness: 1 },
    })));
    this.breakpoints.set(uri, ids);
    this.changed(relativeOfUri(uri), lines);
  }
}
