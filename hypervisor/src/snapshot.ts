// Saving and restoring the machine's object state in place, for reverse debugging: every
// object reachable from the roots has its own fields (array elements, map and set
// entries, typed-array contents) copied, and restoring writes them back into the same
// objects. Identity is kept, so closures and references held outside (a backend's
// handler, the debugger's view of a domain) stay valid; objects made after the save
// simply become unreachable again. Machine memory is not copied here (see history.ts:
// it keeps only the frames written between snapshots).

/**
 * An object that saves itself: returns how to put it back (null: nothing to save). Used
 * where the generic copy would be wrong or wasteful: the CPU (decoded code and compiled
 * blocks are caches of memory, not state; breakpoints belong to the debugger), memory.
 */
export const SNAPSHOT: unique symbol = Symbol('snapshot');

export interface SavesItself {
  [SNAPSHOT](): (() => void) | null;
}

/**
 * Fields that hold the host's callbacks into the machine (a tracer, the debugger's hook,
 * console output): wiring set from outside, not machine state, so never saved or
 * restored (a hook installed after a snapshot must survive going back to it).
 */
const isHostHook = (key: string) => /^on[A-Z]/.test(key) || key.endsWith('Hook');

type TypedArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** One object's saved fields and how to write them back. */
type Saved = { o: object; restore: () => void };

export interface ObjectSnapshot {
  readonly saved: readonly Saved[];
  /** Bytes of typed-array contents this snapshot added (unchanged contents are shared with the previous one). */
  readonly typedBytes: number;
  /** Objects saved. */
  readonly objects: number;
}

/**
 * Saves object graphs. Typed arrays that have not changed since the previous save share
 * its copy, so a large, rarely written array (a disk image, the frame table) costs a
 * comparison, not a copy, per snapshot. Typed arrays over `skipBuffer` (machine memory)
 * are left out.
 */
export class ObjectSaver {
  private lastCopy = new WeakMap<TypedArray, TypedArray>();

  constructor(private readonly skipBuffer: ArrayBufferLike | null = null) {}

  save(roots: readonly object[]): ObjectSnapshot {
    const seen = new Set<object>();
    const saved: Saved[] = [];
    const stack: unknown[] = [...roots];
    let typedBytes = 0;
    const visit = (v: unknown) => {
      if (v !== null && typeof v === 'object' && !seen.has(v)) stack.push(v);
    };
    while (stack.length > 0) {
      const o = stack.pop() as object;
      if (seen.has(o)) continue;
      seen.add(o);
      if (SNAPSHOT in o) {
        const restore = (o as SavesItself)[SNAPSHOT]();
        if (restore !== null) saved.push({ o, restore });
        continue;
      }
      if (ArrayBuffer.isView(o)) {
        if (o instanceof DataView || o.buffer === this.skipBuffer) continue;
        const ta = o as TypedArray;
        const copy = this.copyOf(ta);
        if (copy.added) typedBytes += ta.byteLength;
        saved.push({ o, restore: () => ta.set(copy.data as never) });
        continue;
      }
      if (Object.isFrozen(o)) continue; // constants
      if (Array.isArray(o)) {
        const items = o.slice();
        items.forEach(visit);
        saved.push({ o, restore: () => { o.length = items.length; for (let i = 0; i < items.length; i++) o[i] = items[i]; } });
      } else if (o instanceof Map) {
        const entries = [...o];
        for (const [k, v] of entries) visit(k), visit(v);
        saved.push({ o, restore: () => { o.clear(); for (const [k, v] of entries) o.set(k, v); } });
      } else if (o instanceof Set) {
        const items = [...o];
        items.forEach(visit);
        saved.push({ o, restore: () => { o.clear(); for (const v of items) o.add(v); } });
      } else {
        const rec = o as Record<string, unknown>;
        const keys = Object.keys(rec).filter((k) => !isHostHook(k));
        const values = keys.map((k) => rec[k]);
        values.forEach(visit);
        saved.push({
          o,
          restore: () => {
            for (const k of Object.keys(rec)) if (!keys.includes(k) && !isHostHook(k)) delete rec[k];
            for (let i = 0; i < keys.length; i++) rec[keys[i]] = values[i];
          },
        });
      }
    }
    return { saved, typedBytes, objects: saved.length };
  }

  /** Puts every saved object back as it was. */
  restore(s: ObjectSnapshot): void {
    for (const e of s.saved) e.restore();
  }

  /** A copy of `ta`'s contents: the previous save's when nothing changed. */
  private copyOf(ta: TypedArray): { data: TypedArray; added: boolean } {
    const prev = this.lastCopy.get(ta);
    if (prev !== undefined && prev.length === ta.length && sameContents(prev, ta)) return { data: prev, added: false };
    const data = ta.slice();
    this.lastCopy.set(ta, data);
    return { data, added: true };
  }
}

function sameContents(a: TypedArray, b: TypedArray): boolean {
  // Compare as words where the layout allows it: most arrays here are multiples of 4 bytes.
  if (a.byteLength % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const x = new Int32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
    const y = new Int32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}
