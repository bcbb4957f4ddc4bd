// Everything the extension's manifest and static files take from the toolchain's tables,
// generated in one place: `node scripts/generate.mjs` writes it (files, and the keys of
// package.json listed here, leaving the rest of the manifest alone), and
// client/test/generated.test.ts fails when what is committed differs.

import { TOKEN_MODIFIERS } from '../../server/src/language/tokens.js';
import { debuggersContribution } from './debugger.js';
import { INSTRUCTION_SCOPES, xasmGrammar } from './grammar.js';
import { configurationContribution } from './settings.js';
import { xasmSnippets } from './snippets.js';

export const GRAMMAR_PATH = 'client/syntaxes/xasm.tmLanguage.json';
export const SNIPPETS_PATH = 'client/snippets/xasm.json';

/** Generated files, by path from the repository root, as their text. */
export function generatedFiles(): Record<string, string> {
  return {
    [GRAMMAR_PATH]: json(xasmGrammar()),
    [SNIPPETS_PATH]: json(xasmSnippets()),
  };
}

/** Generated package.json values, by their key path under the manifest's root. */
export function generatedManifest(): Record<string, unknown> {
  return {
    'contributes.configuration': configurationContribution(),
    'contributes.debuggers': debuggersContribution(),
    // The server's semantic-token modifiers, coloured like the grammar's scopes so semantic highlighting keeps the distinction.
    'contributes.semanticTokenModifiers': TOKEN_MODIFIERS.filter((m) => m in INSTRUCTION_SCOPES).map((id) => ({ id, description: MODIFIER_DESCRIPTIONS[id] })),
    'contributes.semanticTokenScopes': [{
      language: 'xasm',
      scopes: { 'keyword.privileged': [INSTRUCTION_SCOPES.privileged], 'keyword.sensitive': [INSTRUCTION_SCOPES.sensitive] },
    }],
  };
}

const MODIFIER_DESCRIPTIONS: Record<string, string> = {
  privileged: 'An instruction that faults (#GP) in ring 1, where a PV guest kernel runs.',
  sensitive: 'An instruction that runs in ring 1 but silently behaves otherwise than on bare hardware.',
};

/** JSON as the repository writes it: 2-space indent, a final newline. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Sets `value` at a dotted key path of `root`, creating objects on the way. */
export function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = root;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

export function getPath(root: Record<string, unknown>, path: string): unknown {
  let o: unknown = root;
  for (const k of path.split('.')) o = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined;
  return o;
}
