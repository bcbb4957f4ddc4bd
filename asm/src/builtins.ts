// Files every assembly can %include without having them on disk: `xen.inc`, generated
// from the isa/ Xen ABI tables. A file of the same name on the include path wins.

import type { SourceProvider } from './source.js';
import { XEN_INCLUDE_NAME, xenIncludeSource } from './xenInclude.js';

export const BUILTIN_PREFIX = '<builtin>/';

let cached: string | undefined;

/** The text of a built-in include file, or undefined. */
export function builtinInclude(name: string): string | undefined {
  if (name !== XEN_INCLUDE_NAME) return undefined;
  cached ??= xenIncludeSource();
  return cached;
}

/** `provider`, falling back to the built-in includes. */
export function withBuiltins(provider: SourceProvider): SourceProvider {
  return {
    read(path, from) {
      const found = provider.read(path, from);
      if (found) return found;
      const text = builtinInclude(path);
      return text === undefined ? null : { path: BUILTIN_PREFIX + path, text };
    },
    readBinary: provider.readBinary?.bind(provider),
    env: provider.env?.bind(provider),
  };
}
