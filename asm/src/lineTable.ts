// The line table as the final pass builds it: rows in parallel typed arrays, each a code
// address and the source offset it came from, made into LineRow objects (with line and
// column) only when the image's `lines` are read (an editor, assembling on every change,
// never reads them, and so never needs a file's line starts).

import type { LineRow } from './image.js';
import { lineIndex, type SourceFile } from './source.js';

export class LineTable {
  private count = 0;
  private address: Float64Array;
  private file: Int32Array;
  private offset: Int32Array;

  /** `capacity`: the rows expected (the assembler guesses one per expanded line). */
  constructor(private readonly files: readonly SourceFile[], capacity: number) {
    const n = Math.max(16, capacity);
    this.address = new Float64Array(n);
    this.file = new Int32Array(n);
    this.offset = new Int32Array(n);
  }

  /**
   * A row for the code at `offset` of the section at `base.vaddr` from `source` (an offset
   * in file `file`). The address is made here: above 2^31 (a kernel linked high) it is no
   * small integer and would be boxed to cross the call, for every row.
   */
  add(base: { readonly vaddr: number }, offset: number, file: number, source: number): void {
    const address = base.vaddr + offset;
    const last = this.count - 1;
    if (last >= 0) {
      // One row per run of the same place (times, data): the range simply continues.
      if (this.samePlace(last, file, source) && this.address[last] <= address) return;
      if (this.address[last] === address) this.count--;
    }
    if (this.count === this.address.length) this.grow();
    const k = this.count++;
    this.address[k] = address;
    this.file[k] = file;
    this.offset[k] = source;
  }

  /** The rows as objects, sorted by address (they only need sorting when sections interleave). */
  rows(): LineRow[] {
    const rows: LineRow[] = new Array(this.count);
    let sorted = true;
    // Rows mostly go forward through a file: its line is looked for from the last one.
    let lastFile = -1;
    let line = 0;
    for (let k = 0; k < this.count; k++) {
      const file = this.files[this.file[k]];
      const starts = file.lineStarts;
      const at = this.offset[k];
      if (this.file[k] !== lastFile || starts[line] > at) line = lineIndex(starts, at);
      else while (line + 1 < starts.length && starts[line + 1] <= at) line++;
      lastFile = this.file[k];
      rows[k] = { address: this.address[k], file: file.path, line: line + 1, column: at - starts[line] + 1 };
      if (k > 0 && this.address[k - 1] > this.address[k]) sorted = false;
    }
    if (!sorted) rows.sort((a, b) => a.address - b.address);
    return rows;
  }

  private samePlace(k: number, file: number, source: number): boolean {
    if (this.offset[k] !== source) return false;
    // Files are compared by path: a file included twice has two ids.
    return this.file[k] === file || this.files[this.file[k]].path === this.files[file].path;
  }

  private grow(): void {
    const n = this.address.length * 2;
    this.address = widened(this.address, new Float64Array(n));
    this.file = widened(this.file, new Int32Array(n));
    this.offset = widened(this.offset, new Int32Array(n));
  }
}

function widened<A extends Float64Array | Int32Array>(from: A, to: A): A {
  to.set(from);
  return to;
}
