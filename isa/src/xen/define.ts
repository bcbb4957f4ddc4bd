// Tiny constructors that keep the constant and struct tables short.

import type { StructField, XenConstant } from './types.js';

/** One named constant. */
export function c(name: string, value: number, doc: string): XenConstant {
  return { name, value, doc };
}

/** Optional parts of a struct field. */
export interface FieldExtra {
  readonly count?: number;
  readonly union?: string;
  readonly struct?: string;
}

/** One struct field. */
export function f(name: string, offset: number, size: number, cType: string, doc: string, extra: FieldExtra = {}): StructField {
  return { name, offset, size, cType, doc, ...extra };
}
