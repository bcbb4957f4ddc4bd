// The `xasm` language in monaco: a Monarch tokenizer made from the extension's TextMate
// grammar (generated from isa/, so both editors colour the same words), the extension's
// language configuration, and a theme whose colours for privileged and sensitive
// instructions also apply to the language server's semantic tokens.

import grammar from '../../client/syntaxes/xasm.tmLanguage.json' with { type: 'json' };
import configuration from '../../client/language-configuration.json' with { type: 'json' };
import type { Monaco } from './monaco.js';

export const LANGUAGE_ID = 'xasm';

type Pattern = { name?: string; match?: string; begin?: string; end?: string; include?: string; captures?: Record<string, { name: string }>; patterns?: Pattern[] };
type Rule = [RegExp, string] | [RegExp, { token: string; next: string }] | { include: string };

/** A scope name without the language suffix (Monarch tokens match theme rules by prefix). */
const token = (scope: string) => scope.replace(/\.xasm$/, '');

/**
 * A TextMate `match` as a JavaScript RegExp. The grammar's inline `(?i)` becomes the flag;
 * its lookbehinds stay (Monarch matches from the current position, so a trailing
 * identifier rule keeps words from matching in the middle of longer ones).
 */
function regex(source: string): RegExp {
  const caseless = source.includes('(?i)');
  return new RegExp(source.replaceAll('(?i)', ''), caseless ? 'i' : '');
}

/** The grammar's patterns as Monarch rules; begin/end pairs (strings) become states of their own. */
function rules(patterns: Pattern[], states: Record<string, Rule[]>): Rule[] {
  const out: Rule[] = [];
  for (const p of patterns) {
    if (p.include) out.push(...rules([(grammar.repository as Record<string, Pattern>)[p.include.slice(1)]], states));
    else if (p.match) out.push([regex(p.match), token(p.name ?? p.captures?.['1']?.name ?? '')]);
    else if (p.begin && p.end && p.name) {
      const state = `s${Object.keys(states).length}`, name = token(p.name);
      const end = p.end.split('|').filter((e) => e !== '$');
      states[state] = [
        ...(p.patterns ?? []).flatMap((q): Rule[] => (q.match && q.name ? [[regex(q.match), token(q.name)]] : [])),
        ...end.map((e): Rule => [regex(e), { token: name, next: '@pop' }]),
        [/./, name],
      ];
      out.push([regex(p.begin), { token: name, next: state }]);
    } else if (p.patterns) out.push(...rules(p.patterns, states));
  }
  return out;
}

/** The colours of the privileged and sensitive classes, for the grammar's scopes and the server's modifiers alike. */
const PRIVILEGED = 'e51400';
const SENSITIVE = 'bf8803';

export const THEME = 'xenolab-light';

export function registerXasm(monaco: Monaco): void {
  monaco.languages.register({ id: LANGUAGE_ID, extensions: ['.xasm', '.inc'], aliases: ['xasm'] });
  const states: Record<string, Rule[]> = {};
  const root = [...rules(grammar.patterns as Pattern[], states), [/[\w.$#@~?]+/, 'identifier'] as Rule];
  // String states end at the end of a line, as the grammar's `"|$` says.
  monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, { defaultToken: '', includeLF: false, tokenizer: { root, ...states } } as never);
  const c = configuration;
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, {
    comments: c.comments,
    brackets: c.brackets as [string, string][],
    autoClosingPairs: c.autoClosingPairs,
    surroundingPairs: c.surroundingPairs.map(([open, close]) => ({ open: open!, close: close! })),
    wordPattern: new RegExp(c.wordPattern),
    folding: { markers: { start: new RegExp(c.folding.markers.start), end: new RegExp(c.folding.markers.end) } },
    indentationRules: { increaseIndentPattern: new RegExp(c.indentationRules.increaseIndentPattern), decreaseIndentPattern: new RegExp(c.indentationRules.decreaseIndentPattern) },
  });
  monaco.editor.defineTheme(THEME, {
    base: 'vs', inherit: true, colors: {},
    rules: [
      { token: 'invalid.illegal.privileged', foreground: PRIVILEGED, fontStyle: 'bold' },
      { token: 'support.type.sensitive', foreground: SENSITIVE, fontStyle: 'bold' },
      { token: 'keyword.privileged', foreground: PRIVILEGED, fontStyle: 'bold' },
      { token: 'keyword.sensitive', foreground: SENSITIVE, fontStyle: 'bold' },
      { token: 'entity.name.function', foreground: '795e26' },
      { token: 'function', foreground: '795e26' },
      { token: 'variable.language.register', foreground: '0070c1' },
      { token: 'support.constant.xen', foreground: '0070c1' },
      { token: 'enumMember', foreground: '0070c1' },
      { token: 'support.function.macro', foreground: 'af00db' },
      { token: 'macro', foreground: 'af00db' },
      { token: 'keyword.control.directive', foreground: 'af00db' },
      { token: 'storage.type', foreground: '0000ff' },
    ],
  });
}
