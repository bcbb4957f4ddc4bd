// package.json as the extension manifest: what is generated from the toolchain's tables is
// what is committed (run `node scripts/generate.mjs` after changing a table), every lint
// rule has a setting, every launch attribute a schema, every path the manifest names
// exists, and the problem matcher reads what `xenolab lint` prints.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lint } from '../../cli/src/lsp.js';
import { RULES } from '../../server/src/analysis/rules.js';
import { launchAttributes } from '../build/debugger.js';
import { generatedFiles, generatedManifest, getPath, json } from '../build/index.js';
import { RULE_SETTING_PREFIX, SEVERITY_SETTINGS, SIMULATOR_SETTINGS } from '../build/settings.js';
import { SIMULATOR_KEYS, SIMULATOR_SECTION } from '../src/debug/configuration.js';

const root = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
type Properties = Record<string, { enum?: string[]; default?: unknown }>;
const settings = (): Properties => Object.assign({}, ...(manifest.contributes as { configuration: { properties: Properties }[] }).configuration.map((c) => c.properties));

describe('generated parts of the manifest', () => {
  it('are committed as generated (else: node scripts/generate.mjs)', () => {
    for (const [path, text] of Object.entries(generatedFiles())) expect(readFileSync(join(root, path), 'utf8'), path).toBe(text);
    for (const [key, value] of Object.entries(generatedManifest())) expect(getPath(manifest, key), key).toEqual(JSON.parse(json(value)));
  });

  it('have a severity setting for every rule of the language server, defaulting to its severity', () => {
    const s = settings();
    for (const r of RULES) {
      const setting = s[RULE_SETTING_PREFIX + r.code];
      expect(setting, r.code).toBeDefined();
      expect(setting.enum).toEqual([...SEVERITY_SETTINGS]);
      expect(setting.default).toBe(r.severity);
    }
    expect(Object.keys(s).filter((k) => k.startsWith(RULE_SETTING_PREFIX)).length).toBe(RULES.length);
  });

  it('have a setting and a launch schema for every simulator default, the same schema', () => {
    const attributes = launchAttributes() as Record<string, unknown>;
    for (const k of SIMULATOR_KEYS) {
      expect(settings()[`${SIMULATOR_SECTION}.${k}`], k).toBeDefined();
      expect(attributes[k], k).toBeDefined();
      expect((attributes[k] as { description: string }).description).toBe(SIMULATOR_SETTINGS[`${SIMULATOR_SECTION}.${k}`].description);
    }
  });
});

describe('the manifest', () => {
  it('names files that exist', () => {
    const c = manifest.contributes as Record<string, { path?: string; configuration?: string; icon?: { light: string; dark: string } }[]>;
    const paths = [
      manifest.main as string,
      ...c.languages.flatMap((l) => [l.configuration!, l.icon!.light, l.icon!.dark]),
      ...c.grammars.map((g) => g.path!),
      ...c.snippets.map((s) => s.path!),
      ...(c.walkthroughs as unknown as { steps: { media: { markdown?: string } }[] }[]).flatMap((w) => w.steps.map((s) => s.media.markdown!)),
    ];
    for (const p of paths.filter((p) => !p.startsWith('./dist/'))) expect(existsSync(join(root, p)), p).toBe(true);
    expect(manifest.main).toBe('./dist/extension.cjs');
  });

  it("has a problem matcher that reads `xenolab lint`'s findings and leaves its notes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolab-lint-'));
    const file = join(dir, 'native.xasm');
    writeFileSync(file, ['bits 32', 'start:', '    cli', '    popf', '    mov cr3, eax', '    mov eax, 99', '    int 0x82', '    jmp undefined_label', ''].join('\n'));
    let out = '';
    expect(lint([file], {}, (s) => (out += s))).toBe(1);
    const lines = out.trimEnd().split('\n');
    const matcher = (manifest.contributes as { problemMatchers: { pattern: { regexp: string; file: number; line: number; column: number; severity: number; code: number; message: number } }[] }).problemMatchers[0].pattern;
    const re = new RegExp(matcher.regexp);
    const found = lines.map((l) => re.exec(l)).filter((m) => m !== null).map((m) => ({
      file: m[matcher.file], line: Number(m[matcher.line]), column: Number(m[matcher.column]), severity: m[matcher.severity], code: m[matcher.code], message: m[matcher.message],
    }));
    // every finding line is read, no note line is
    expect(found.length).toBe(lines.filter((l) => !/: note: /.test(l)).length);
    expect(found.length).toBeGreaterThanOrEqual(4);
    for (const f of found) {
      expect(f.file).toBe(file);
      expect(RULES.map((r) => r.code)).toContain(f.code);
      expect(f.message.length).toBeGreaterThan(0);
    }
    expect(found).toContainEqual(expect.objectContaining({ line: 3, column: 5, severity: 'error', code: 'privileged-instruction' }));
    expect(found).toContainEqual(expect.objectContaining({ line: 4, severity: 'warning', code: 'sensitive-instruction' }));
    expect(found).toContainEqual(expect.objectContaining({ line: 8, severity: 'error', code: 'asm' }));
  });
});
