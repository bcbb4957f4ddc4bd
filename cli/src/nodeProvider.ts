// Include files from the file system, searched like nasm: the including file's
// directory, the current directory, then each -I directory; built-ins last.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { withBuiltins, type SourceProvider } from '../../asm/src/index.js';

function candidates(path: string, from: string, includeDirs: readonly string[]): string[] {
  if (isAbsolute(path)) return [path];
  return [join(dirname(from), path), resolve(path), ...includeDirs.map((d) => join(d, path))];
}

function firstFile(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p) && statSync(p).isFile());
}

export function nodeProvider(includeDirs: readonly string[] = []): SourceProvider {
  return withBuiltins({
    read(path, from) {
      const found = firstFile(candidates(path, from, includeDirs));
      return found ? { path: found, text: readFileSync(found, 'utf8') } : null;
    },
    readBinary(path, from) {
      const found = firstFile(candidates(path, from, includeDirs));
      return found ? { path: found, bytes: new Uint8Array(readFileSync(found)) } : null;
    },
    env: (name) => process.env[name],
  });
}

/** Launch files from the file system (the debug adapter's `LaunchFiles`). */
export const nodeFiles = {
  readText(path: string): string | null {
    try {
      return statSync(path).isFile() ? readFileSync(path, 'utf8') : null;
    } catch {
      return null;
    }
  },
  readBytes(path: string): Uint8Array | null {
    try {
      return statSync(path).isFile() ? new Uint8Array(readFileSync(path)) : null;
    } catch {
      return null;
    }
  },
};

/** Folders a workspace listing does not enter (besides hidden ones): dependencies, build output. */
const SKIPPED = new Set(['node_modules', 'dist', 'out', 'build']);

/**
 * Files under a folder whose names end in one of `extensions` (the language server's
 * workspace index): hidden and dependency folders skipped, symbolic links not followed,
 * at most `limit` files.
 */
export function listFiles(folder: string, extensions: readonly string[], limit: number): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (out.length >= limit) return;
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < 16 && !SKIPPED.has(e.name)) walk(path, depth + 1);
      } else if (e.isFile() && extensions.some((x) => e.name.endsWith(x))) out.push(path);
    }
  };
  walk(resolve(folder), 0);
  return out;
}
