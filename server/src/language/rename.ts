// Renaming a label, constant or macro: whether the new name can replace the old one
// everywhere without changing what the program means, and the edits that do it. A local
// label (`.x`) keeps its form in each place (`.y` under its parent, `parent.y` elsewhere);
// a label's locals written in full (`label.x`) follow it; `$name` keeps its `$`.

import { BUILTIN_PREFIX, reservedWord } from '../../../asm/src/index.js';
import { isLocalName, offsetAt, type Definition, type Range, type SymbolIndex } from './symbols.js';
import { referencesOf } from './workspace.js';

const NAME = /^[A-Za-z_.?@$][\w.?@$#~]*$/;

/** Why `newName` cannot be definition d's name (null when it can). */
export function renameProblem(indexes: readonly SymbolIndex[], d: Definition, newName: string): string | null {
  if (d.made) return `'${d.name}' is made by a macro from its arguments (${d.text}): rename what the macro is given`;
  if (!NAME.test(newName)) return `'${newName}' is not a valid name`;
  if (d.kind !== 'local' && isLocalName(newName)) return `'${d.name}' is not a local label: as '${newName}' it would become one of the label before it`;
  const bare = (d.kind === 'local' ? newName.replace(/^\./, '') : newName).replace(/^\$/, '');
  // a local is written `.x` or `parent.x`: its name is never a word of the assembler
  if (d.kind !== 'local' && reservedWord(bare)) return `'${bare}' is a word of the assembler (a register, instruction or keyword), not a name`;
  const full = d.kind === 'local' ? `${d.parent}.${bare}` : bare;
  if (full === d.name) return null;
  for (const index of indexes) {
    const other = index.definitions.get(full);
    if (other) return `'${full}' is already defined (${other.file.startsWith(BUILTIN_PREFIX) ? 'by xen.inc' : `${other.file.slice(other.file.lastIndexOf('/') + 1)}:${other.range.start.line + 1}`})`;
  }
  return null;
}

export interface RenameEdit {
  file: string;
  range: Range;
  newText: string;
}

/** The edits that rename d to `newName` (check renameProblem first). */
export function renameEdits(indexes: readonly SymbolIndex[], d: Definition, newName: string): RenameEdit[] {
  const base = newName.replace(/^\./, '');
  // a label's locals, where they are written in full (`label.x`): their first part is the label
  const locals = d.kind === 'label' ? indexes.flatMap((i) => [...i.definitions.values()]).filter((x) => x.kind === 'local' && x.parent === d.name) : [];
  const found = referencesOf(indexes, [d, ...new Map(locals.map((x) => [x.name, x])).values()]);
  const edits: RenameEdit[] = [];
  const seen = new Set<string>();
  for (const [name, places] of found) {
    for (const x of places) {
      if (!x.file.startsWith('/')) continue;
      const key = `${x.file}:${x.range.start.line}:${x.range.start.column}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const f = indexes.find((i) => i.files.has(x.file))!.files.get(x.file)!;
      const from = offsetAt(f, x.range.start);
      const written = f.text.slice(from, offsetAt(f, x.range.end));
      const dollar = written.startsWith('$') ? 1 : 0;
      if (name !== d.name) {
        // a local of the renamed label: only a full `label.x` names the label
        if (written.slice(dollar).startsWith(`${d.name}.`)) edits.push({ file: x.file, range: { start: shifted(x.range, dollar), end: shifted(x.range, dollar + d.name.length) }, newText: newName });
        continue;
      }
      const newText = d.kind !== 'local' ? newName : written.startsWith('.') ? `.${base}` : `${d.parent}.${base}`;
      edits.push({ file: x.file, range: dollar ? { start: shifted(x.range, 1), end: x.range.end } : x.range, newText });
    }
  }
  return edits;
}

/** The position `n` columns after a (one-line) range's start. */
function shifted(r: Range, n: number): Range['start'] {
  return { line: r.start.line, column: r.start.column + n };
}
